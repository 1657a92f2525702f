import type { BatonApp } from '../baton-app.js';
import { ProblemError, ProblemTypes, type FieldError } from './problem.js';

/**
 * Query and path values that route schemas coerce to numbers must be finite: `1e400` passes a
 * JSON-schema `integer` check as Infinity (and slips past `maximum`), then reaches the database as
 * "Infinity" and fails there. Refused here, after validation, for every route at once.
 */
export function refuseNonFiniteNumbers(app: BatonApp): void {
  app.addHook('preHandler', async (request) => {
    const errors: FieldError[] = [];
    for (const [where, values] of [['querystring', request.query], ['params', request.params]] as const) {
      if (!values || typeof values !== 'object') continue;
      for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
        if (typeof v === 'number' && !Number.isFinite(v)) errors.push({ field: `${where}.${k}`, message: 'must be a finite number' });
      }
    }
    if (errors.length > 0) {
      throw new ProblemError(400, 'Invalid request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { type: ProblemTypes.validation, errors });
    }
  });
}
