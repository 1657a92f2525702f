import { compile } from '@baton/sel';
import { selEvaluator, type SelEvaluate } from '../runtime/sel-port.js';
import type { ParamValue } from '../definition/model.js';
import type { StepOutcome } from '../runtime/step-runtime.js';

/** Maestro's step states a `state_expr` may return, and what each means here. */
const STATES: Readonly<Record<string, StepOutcome>> = {
  DONE: 'SUCCEEDED',
  USER_ERROR: 'USER_FAILED',
  FATAL_ERROR: 'FATALLY_FAILED',
  PLATFORM_ERROR: 'PLATFORM_FAILED',
  TIMED_OUT: 'TIMED_OUT',
};

export type StateVerdict = { ok: true; outcome: StepOutcome } | { ok: false; message: string };

/**
 * Maestro's `state_expr`: a SEL program run after the response, seeing the step's params with
 * `status_code`, `response_body` (and `response_headers`) laid over them; it returns a state name.
 */
let inline: SelEvaluate | undefined;

/** The SEL type name of a plain result, for the message. */
function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint') return 'LONG';
  if (typeof v === 'number') return 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  return Array.isArray(v) ? 'an array' : 'a MAP';
}

/**
 * Evaluated like params (`evaluate`: the engine's, with its worker pool and wall-clock limit;
 * without one, inline under the default limit).
 */
export async function evaluateStateExpr(source: string, vars: Readonly<Record<string, ParamValue>>, evaluate?: SelEvaluate): Promise<StateVerdict> {
  try {
    compile(source, { maestro: true });
  } catch (e) {
    return { ok: false, message: `state_expr does not compile: ${(e as Error).message}` };
  }
  let value: unknown;
  try {
    value = await (evaluate ?? (inline ??= selEvaluator()))(source, vars as Record<string, unknown>);
  } catch (e) {
    return { ok: false, message: `state_expr failed: ${(e as Error).message}` };
  }
  const name = typeof value === 'string' ? value.trim().toUpperCase() : undefined;
  const outcome = name === undefined ? undefined : STATES[name];
  if (!outcome) {
    return { ok: false, message: `state_expr returned ${typeof value === 'string' ? JSON.stringify(value) : typeName(value)}; expected one of ${Object.keys(STATES).join(', ')}` };
  }
  return { ok: true, outcome };
}
