/** Evaluation limits. Defaults are Maestro's production values. */
export interface Limits {
  /** Longest accepted source text, in characters (a source this long or longer is refused). */
  sourceLength: number;
  /** Iterations a single execution of one loop may run. */
  loopIterations: number;
  /** Largest array a program may build. */
  arrayLength: number;
  /** Longest string a program may build. */
  stringLength: number;
  /** Memory of values built during one evaluation, in bytes (estimated). */
  memoryBytes: number;
  /** Evaluation steps (statements, loop turns, calls) per evaluation. */
  steps: number;
  /** Operand stack of the evaluation: how much nesting and how many pending values an expression needs. */
  stack: number;
  /** How deeply the source may nest brackets, operators and statements. */
  parseNesting: number;
  /** Optional wall-clock budget per evaluation, in milliseconds (0 = none). */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  sourceLength: 10000,
  loopIterations: 25001,
  arrayLength: 25001,
  stringLength: 10_000_000,
  memoryBytes: 100_000_000,
  steps: 100_000_000,
  stack: 128,
  parseNesting: 100,
  timeoutMs: 0,
});

export function resolveLimits(partial?: Partial<Limits>): Limits {
  if (!partial) return DEFAULT_LIMITS;
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const v = partial[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0)) throw new TypeError(`limit ${key} must be a non-negative number`);
    out[key] = v;
  }
  return out;
}

/** Bytes charged per value built: a fixed object cost plus 2 bytes per character or 8 per element. */
export const OBJECT_BYTES = 32;
export const CHAR_BYTES = 2;
export const ELEMENT_BYTES = 8;

/**
 * Work units per evaluation step. A step (a statement, loop turn or call) costs some tens of
 * nanoseconds; scanning or copying one character costs well under one, so 64 of them make a step.
 */
export const WORK_UNITS_PER_STEP = 64;
