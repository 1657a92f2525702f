import type { DurationSpec } from '../definition/model.js';
import { parseDurationSeconds } from '../definition/duration.js';
import { interpolate } from '../params/interpolate.js';
import type { EvaluatedParams } from './params.js';

/**
 * A step or workflow timeout in seconds: a number, a duration string ("90s", "1h 30m"), or a
 * `${param}` template resolved from the params in scope. Undefined when none is set.
 */
export function timeoutSeconds(spec: DurationSpec | undefined, scope: EvaluatedParams): number | undefined {
  if (!spec) return undefined;
  if ('seconds' in spec) return spec.seconds;
  const text = interpolate(spec.template, (ref) => scope[ref.name]?.value).trim();
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : parseDurationSeconds(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`timeout ${spec.template} is ${text}, not a positive duration`);
  return n;
}

/** Thrown into a runtime's signal when its attempt ran out of time. */
export class StepTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`step timed out after ${seconds} s`);
    this.name = 'StepTimeoutError';
  }
}
