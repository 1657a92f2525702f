import { compileAst, asSelError, RETURN, type CompiledProgram } from './compiler.js';
import { checkWorkflowResult, importValue } from './convert.js';
import { SelError, limitError } from './errors.js';
import type { HostExtensions } from './extensions.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from './limits.js';
import { EvalState, UNSET, type InputVars, type Slot } from './runtime/state.js';
import { typeOf, type SelTypeName, type Value } from './runtime/values.js';
import { parse, parseMaestro } from './syntax/parser.js';

export interface CompileOptions {
  /**
   * Evaluate the way the workflow engine does (Maestro's ExprEvaluator): a missing final `;` is
   * added, and a result that cannot become a workflow parameter (a host object, a map holding
   * NULL) is an error.
   */
  maestro?: boolean;
  /** Limits that apply while compiling (source length, nesting). */
  limits?: Partial<Limits>;
  /** Default host extensions for every evaluation of this program. */
  extensions?: HostExtensions<never>;
  /** Skip the compile cache. */
  noCache?: boolean;
}

export interface EvaluateOptions<C = unknown> {
  limits?: Partial<Limits>;
  /** Host functions for this evaluation (override the program's). */
  extensions?: HostExtensions<C>;
  /** Handed to every extension call: per-evaluation host state, e.g. the current step. */
  context?: C;
  /** Pinned clock in epoch milliseconds, or a clock function. */
  nowMillis?: number | (() => number);
  random?: () => number;
}

export interface SelErrorInfo {
  kind: SelError['kind'];
  message: string;
  line: number;
  column: number;
}

export type EvalResult =
  | { ok: true; type: SelTypeName; value: Value | undefined }
  | { ok: false; error: SelError };

/** LONG is a 64-bit integer; a host bigint in range is used as it is. */
const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

/** Options of an evaluation that passes none (no object to allocate per call). */
const NO_OPTIONS: EvaluateOptions = Object.freeze({});
const NO_VARS: InputVars = Object.freeze({});

export class Program {
  readonly readsParams: boolean;
  /**
   * A state no evaluation is using: the next one takes it (and gives it back when it ends), so
   * repeated evaluations allocate none. An evaluation that starts while another of this program
   * is running (a host function evaluating it again) makes its own.
   */
  private idle: EvalState | undefined;
  /**
   * Copied for every evaluation of a program that stores into its slots: all UNSET. Made on the
   * second evaluation (the first one has a new state, whose own slots are as young).
   */
  private slotTemplate: Slot[] | undefined;
  /**
   * Whether an evaluation without options may take the lean path (`evaluateLean`): the program
   * stores into no slot, was compiled without limits or extensions of its own, and fits the
   * default stack and source-length limits (checked here once instead of per evaluation).
   */
  private readonly lean: boolean;

  constructor(
    readonly source: string,
    private readonly compiled: CompiledProgram,
    private readonly options: CompileOptions,
  ) {
    this.readsParams = compiled.readsParams;
    this.lean = !compiled.writesSlots && !options.limits && !options.extensions && compiled.stackNeed <= DEFAULT_LIMITS.stack && source.length < DEFAULT_LIMITS.sourceLength;
  }

  /** Input variables the program reads by name (and keys it reads through `params`), as first read. */
  get inputNames(): ReadonlySet<string> {
    return (this.inputSet ??= new Set(this.compiled.inputNames));
  }

  private inputSet: Set<string> | undefined;

  /** Runs the program; never throws for anything the program does. */
  evaluate<C>(vars: InputVars = NO_VARS, options: EvaluateOptions<C> = NO_OPTIONS as EvaluateOptions<C>): EvalResult {
    if (this.lean && options === NO_OPTIONS && this.idle !== undefined) return this.evaluateLean(vars, this.idle);
    try {
      const value = this.run(vars, options);
      return { ok: true, type: typeOf(value), value };
    } catch (e) {
      return { ok: false, error: toSelError(e) };
    }
  }

  /**
   * `evaluate` with no options, of a program that stores into no slot (`lean`), in the state left
   * idle by the last evaluation: the same limits (the defaults), clock and checks, with only the
   * work such a program can need: its inputs are bound without recording their types (only
   * stores read those), and `end` has no types to forget.
   */
  private evaluateLean(vars: InputVars, s: EvalState): EvalResult {
    this.idle = undefined;
    s.beginDefault(vars, this.options.extensions as HostExtensions | undefined);
    try {
      const names = this.compiled.slotNames;
      if (vars instanceof Map) bindMap(s, names, vars);
      else {
        const slots = s.slots;
        for (let i = 0; i < names.length; i++) {
          const name = names[i]!;
          if (!Object.hasOwn(vars, name)) continue;
          const raw = (vars as Readonly<Record<string, unknown>>)[name];
          slots[i] = inputValue(raw, s);
        }
      }
      const value = this.compiled.run(s) === RETURN ? s.returned : s.last;
      if (this.options.maestro && typeof value === 'object' && value !== null) checkWorkflowResult(value);
      return { ok: true, type: typeOf(value), value };
    } catch (e) {
      return { ok: false, error: toSelError(e) };
    } finally {
      s.endLean();
      this.idle = s;
    }
  }

  /** Like `evaluate`, but throws the SelError. */
  evaluateOrThrow<C>(vars: InputVars = NO_VARS, options: EvaluateOptions<C> = NO_OPTIONS as EvaluateOptions<C>): Value | undefined {
    try {
      return this.run(vars, options);
    } catch (e) {
      throw toSelError(e);
    }
  }

  private run<C>(vars: InputVars, options: EvaluateOptions<C>): Value | undefined {
    const limits = options.limits ? resolveLimits(options.limits) : this.options.limits ? resolveLimits(this.options.limits) : DEFAULT_LIMITS;
    const c = this.compiled;
    if (c.stackNeed > limits.stack) {
      throw new SelError('limit', `stack limit of ${limits.stack} exceeded: this expression needs ${c.stackNeed}`, c.stackPos.line, c.stackPos.column);
    }
    if (this.source.length >= limits.sourceLength) throw lengthError(this.source.length, limits.sourceLength);
    const now = options.nowMillis;
    const clock = typeof now === 'number' ? pinnedClock(now) : typeof now === 'function' ? now : Date.now;
    const names = c.slotNames;
    let s = this.idle;
    let fresh: Slot[] | undefined;
    if (s !== undefined) {
      this.idle = undefined;
      if (c.writesSlots) fresh = (this.slotTemplate ??= unsetSlots(names.length)).slice();
    } else s = new EvalState(names.length, limits);
    s.begin(fresh, limits, vars, (options.extensions ?? this.options.extensions) as HostExtensions | undefined, options.context, clock, options.random ?? Math.random);
    try {
      const isMap = vars instanceof Map;
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        let raw: unknown;
        if (isMap) {
          if (!vars.has(name)) continue;
          raw = vars.get(name);
        } else {
          if (!Object.hasOwn(vars, name)) continue;
          raw = (vars as Readonly<Record<string, unknown>>)[name];
        }
        const v = inputValue(raw, s);
        s.slots[i] = v;
        s.slotTypes[i] = typeOf(v);
      }
      const r = c.run(s);
      const result = r === RETURN ? s.returned : s.last;
      if (this.options.maestro) checkWorkflowResult(result);
      return result;
    } finally {
      s.end();
      this.idle = s;
    }
  }
}

/** An input as the program sees it: a string, boolean, number or LONG as it is, anything else imported (copied, checked, charged). */
function inputValue(raw: unknown, s: EvalState): Value {
  return typeof raw === 'string' || typeof raw === 'boolean' || typeof raw === 'number' || (typeof raw === 'bigint' && raw >= MIN_LONG && raw <= MAX_LONG)
    ? raw
    : importValue(raw, { wholeNumbersAreLong: false, host: s });
}

function unsetSlots(n: number): Slot[] {
  const slots: Slot[] = [];
  for (let i = 0; i < n; i++) slots.push(UNSET);
  return slots;
}

function bindMap(s: EvalState, names: string[], vars: ReadonlyMap<string, unknown>): void {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!vars.has(name)) continue;
    const raw = vars.get(name);
    s.slots[i] = inputValue(raw, s);
  }
}

/** A clock that always reads `millis` (made here: a closure in `run` would cost every evaluation a context). */
function pinnedClock(millis: number): () => number {
  return () => millis;
}

function lengthError(length: number, limit: number): SelError {
  return new SelError('limit', `source length limit of ${limit} exceeded: the program has ${length} characters`, 1, 1);
}

function toSelError(e: unknown): SelError {
  const err = asSelError(e) as SelError;
  if (err.line === 0) {
    err.line = 1;
    err.column = 1;
  }
  return err;
}

/** A bounded LRU of compiled programs, keyed by source and mode. */
class ProgramCache {
  private readonly map = new Map<string, Program>();
  constructor(private readonly max: number) {}
  get(key: string): Program | undefined {
    const p = this.map.get(key);
    if (p) {
      this.map.delete(key);
      this.map.set(key, p);
    }
    return p;
  }
  set(key: string, p: Program): void {
    this.map.set(key, p);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  clear(): void {
    this.map.clear();
  }
}

export const COMPILE_CACHE_SIZE = 1000;
const cache = new ProgramCache(COMPILE_CACHE_SIZE);

export function clearCompileCache(): void {
  cache.clear();
}

/** Parses and checks a program once; throws a SelError (syntax, type, name, limit) if it is invalid. */
export function compile(source: string, options: CompileOptions = {}): Program {
  if (typeof source !== 'string') throw new SelError('syntax', 'a SEL program must be a string', 1, 1);
  const useCache = !options.noCache && !options.extensions && !options.limits;
  const key = useCache ? (options.maestro ? `M${source}` : `S${source}`) : '';
  if (useCache) {
    const hit = cache.get(key);
    if (hit) return hit;
  }
  const limits = options.limits ? resolveLimits(options.limits) : DEFAULT_LIMITS;
  if (source.length >= limits.sourceLength) throw lengthError(source.length, limits.sourceLength);
  let compiled: CompiledProgram;
  try {
    compiled = compileAst(options.maestro ? parseMaestro(source, limits.parseNesting) : parse(source, limits.parseNesting));
  } catch (e) {
    throw toSelError(e);
  }
  const program = new Program(source, compiled, options);
  if (useCache) cache.set(key, program);
  return program;
}

/** Compiles (cached) and evaluates in one call; compile errors come back as a failed result. */
export function evaluate<C>(source: string, vars: InputVars = {}, options: EvaluateOptions<C> & { maestro?: boolean } = {}): EvalResult {
  let program: Program;
  try {
    program = compile(source, { maestro: options.maestro });
  } catch (e) {
    return { ok: false, error: toSelError(e) };
  }
  return program.evaluate(vars, options);
}

export { limitError };
