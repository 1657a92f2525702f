import { compile, type ExtensionFunction } from '@baton/sel';
import { mayRunInline } from '../sel-pool/inline.js';
import { selToPlain } from '../sel-pool/plain.js';
import type { SelWorkerPool } from '../sel-pool/pool.js';
import { isTimeLimitError, SelWallClockError } from '../sel-pool/protocol.js';
import type { CompiledExpression, ExpressionPort, ParamsHost } from './expressions.js';

/** Engine-provided `params.*` methods; any other name is looked up among registered extensions. */
const BUILT_IN = ['getFromStep', 'getFromInstance'] as const;

/** The wall-clock limit of one evaluation when none is configured. */
export const DEFAULT_SEL_TIMEOUT_MS = 5000;

export interface SelPortOptions {
  /** Wall-clock limit per evaluation in ms (default 5,000; 0 = none). */
  timeoutMs?: number;
  /** Where programs that may run long are evaluated; without one, every program runs inline. */
  pool?: SelWorkerPool;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} must be a string`);
  return v;
}

/** `params.<name>(args)` answered from the host, as plain data. */
function hostCall(host: ParamsHost, name: string, args: readonly unknown[]): unknown {
  if (name === 'getFromStep') return host.getFromStep(str(args[0], 'step id'), str(args[1], 'param name')) ?? null;
  if (name === 'getFromInstance') return host.getFromInstance(str(args[0], 'param name')) ?? null;
  const fn = host.extension(name);
  if (!fn) throw new Error(`params.${name} is not available here`);
  return fn(...args);
}

/**
 * `@baton/sel` behind the runtime's expression port, in Maestro mode (a missing final `;` is
 * added; results must be workflow-param values). `params.get(...)` reads the variables passed
 * in; `params.getFromStep/getFromInstance` and registered extensions go to the ParamsHost.
 *
 * Programs whose running time their size bounds (see `mayRunInline`) run inline under the
 * interpreter's wall-clock check; the others run in the worker pool, whose hard deadline
 * terminates a worker that passes the limit. Either way the limit ends in SelWallClockError.
 */
export function selExpressionPort(extensionNames: () => Iterable<string>, opts: SelPortOptions = {}): ExpressionPort {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SEL_TIMEOUT_MS;
  const pool = opts.pool;
  const names = (): string[] => {
    const out: string[] = [...BUILT_IN];
    for (const name of extensionNames()) if (!(BUILT_IN as readonly string[]).includes(name)) out.push(name);
    return out;
  };
  const methods = (): Record<string, ExtensionFunction<ParamsHost>> => {
    const out: Record<string, ExtensionFunction<ParamsHost>> = {};
    for (const name of names()) out[name] = (args, call) => hostCall(call.context, name, args);
    return out;
  };
  return {
    compile(source: string): CompiledExpression {
      const program = compile(source, { maestro: true });
      const inline = !pool || mayRunInline(source);
      return {
        names: [...program.inputNames],
        readsParams: program.readsParams,
        inline,
        async evaluate(vars, params) {
          if (inline) {
            try {
              return selToPlain(program.evaluateOrThrow(vars as Record<string, unknown>, { extensions: { paramMethods: methods() }, context: params, limits: { timeoutMs } }));
            } catch (e) {
              throw isTimeLimitError(e) ? new SelWallClockError(timeoutMs) : e;
            }
          }
          return pool.run({
            source,
            maestro: true,
            vars: vars as Record<string, unknown>,
            timeoutMs,
            methods: names(),
            call: (name, args) => hostCall(params, name, args),
          });
        },
      };
    },
  };
}

/** `params.<name>(...)` functions for `selEvaluator`: SEL arguments in, plain data out. */
export type SelMethods = Readonly<Record<string, (args: readonly unknown[]) => unknown>>;

/** Evaluates a SEL program (Maestro mode) over plain variables; resolves with plain data. */
export type SelEvaluate = (source: string, vars: Record<string, unknown>, methods?: SelMethods) => Promise<unknown>;

/**
 * SEL evaluation for programs outside params (trigger conditions, signal outputs, dependency
 * match values): the same inline/worker split and wall-clock limit as the engine's port.
 */
export function selEvaluator(opts: SelPortOptions = {}): SelEvaluate {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SEL_TIMEOUT_MS;
  const pool = opts.pool;
  return async (source, vars, methods = {}) => {
    const program = compile(source, { maestro: true });
    if (!pool || mayRunInline(source)) {
      const paramMethods: Record<string, ExtensionFunction> = {};
      for (const [name, fn] of Object.entries(methods)) paramMethods[name] = (args) => fn(args);
      try {
        return selToPlain(program.evaluateOrThrow(vars, { extensions: { paramMethods }, limits: { timeoutMs } }));
      } catch (e) {
        throw isTimeLimitError(e) ? new SelWallClockError(timeoutMs) : e;
      }
    }
    return pool.run({
      source,
      maestro: true,
      vars,
      timeoutMs,
      methods: Object.keys(methods),
      call: (name, args) => {
        const fn = Object.hasOwn(methods, name) ? methods[name] : undefined;
        if (!fn) throw new Error(`params.${name} is not available here`);
        return fn(args);
      },
    });
  };
}
