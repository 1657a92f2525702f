import { compile } from '@baton/sel';
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
export function evaluateStateExpr(source: string, vars: Readonly<Record<string, ParamValue>>): StateVerdict {
  let program;
  try {
    program = compile(source, { maestro: true });
  } catch (e) {
    return { ok: false, message: `state_expr does not compile: ${(e as Error).message}` };
  }
  const r = program.evaluate(vars as Record<string, unknown>);
  if (!r.ok) return { ok: false, message: `state_expr failed: ${r.error.message}` };
  const name = typeof r.value === 'string' ? r.value.trim().toUpperCase() : undefined;
  const outcome = name === undefined ? undefined : STATES[name];
  if (!outcome) {
    return { ok: false, message: `state_expr returned ${typeof r.value === 'string' ? JSON.stringify(r.value) : r.type}; expected one of ${Object.keys(STATES).join(', ')}` };
  }
  return { ok: true, outcome };
}
