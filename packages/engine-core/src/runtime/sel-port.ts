import { compile, SelArray, type ExtensionFunction, type Value } from '@baton/sel';
import type { CompiledExpression, ExpressionPort, ParamsHost } from './expressions.js';

/** Engine-provided `params.*` methods; any other name is looked up among registered extensions. */
const BUILT_IN = ['getFromStep', 'getFromInstance'] as const;

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} must be a string`);
  return v;
}

/** SEL value → plain data (LONG stays bigint; host objects such as DateTime become their text). */
function toPlain(v: Value | undefined): unknown {
  if (v === undefined || v === null) return v ?? null;
  if (typeof v !== 'object') return v;
  if (v instanceof SelArray) return v.items.map((x) => toPlain(x as Value));
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, k, { value: toPlain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return String(v);
}

/**
 * `@baton/sel` behind the runtime's expression port, in Maestro mode (a missing final `;` is
 * added; results must be workflow-param values). `params.get(...)` reads the variables passed
 * in; `params.getFromStep/getFromInstance` and registered extensions go to the ParamsHost.
 */
export function selExpressionPort(extensionNames: () => Iterable<string>): ExpressionPort {
  const methods = (): Record<string, ExtensionFunction<ParamsHost>> => {
    const out: Record<string, ExtensionFunction<ParamsHost>> = {
      getFromStep: (args, call) => call.context.getFromStep(str(args[0], 'step id'), str(args[1], 'param name')) ?? null,
      getFromInstance: (args, call) => call.context.getFromInstance(str(args[0], 'param name')) ?? null,
    };
    for (const name of extensionNames()) {
      if ((BUILT_IN as readonly string[]).includes(name)) continue;
      out[name] = (args, call) => {
        const fn = call.context.extension(name);
        if (!fn) throw new Error(`params.${name} is not available here`);
        return fn(...args);
      };
    }
    return out;
  };
  return {
    compile(source: string): CompiledExpression {
      const program = compile(source, { maestro: true });
      return {
        names: [...program.inputNames],
        readsParams: program.readsParams,
        evaluate(vars, params) {
          const value = program.evaluateOrThrow(vars as Record<string, unknown>, {
            extensions: { paramMethods: methods() },
            context: params,
          });
          return toPlain(value);
        },
      };
    },
  };
}
