import { selEvaluator, type SelEvaluate, type SelMethods } from '@baton/engine-core';

/**
 * How the wiring evaluates SEL (trigger conditions and params, signal outputs, dependency match
 * values). Inline with the default wall-clock limit until `useSelEvaluator` hands it the
 * engine's (worker pool, configured limit), which `createServices` does.
 */
let current: SelEvaluate = selEvaluator();

export function useSelEvaluator(evaluate: SelEvaluate): void {
  current = evaluate;
}

/**
 * Evaluates a SEL program the way the engine does (Maestro mode) with the given variables and
 * `params.*` methods, and resolves with plain data (LONG = bigint, arrays, objects for maps).
 */
export function evaluateSel(source: string, vars: Record<string, unknown>, paramMethods: SelMethods = {}): Promise<unknown> {
  return current(source, vars, paramMethods);
}

export function stringArg(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} must be a string`);
  return v;
}
