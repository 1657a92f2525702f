import { secondsOf } from '../definition/duration.js';
import type { Queryable } from '../db/db.js';
import type { Backoff, IntSpec, RetryPolicy } from '../definition/model.js';
import { interpolate } from '../params/interpolate.js';
import type { Outbox } from '../queue/queue.js';
import { stepJob, type EngineContext } from './context.js';
import type { EvaluatedParams } from './params.js';
import type { AttemptTarget } from './attempt-target.js';
import type { StepStatus } from './status.js';

type ErrorClass = 'error' | 'platform' | 'timeout';

const CLASS_OF: Partial<Record<StepStatus, ErrorClass>> = { USER_FAILED: 'error', PLATFORM_FAILED: 'platform', TIMED_OUT: 'timeout' };

/** Maestro's defaults for what a `retry_policy` leaves out. */
export const RETRY_DEFAULTS = {
  limit: { error: 2, platform: 10, timeout: 0 },
  backoffSecs: { error: 60, platform: 60, timeout: 60 },
  exponent: { error: 2, platform: 2, timeout: 2 },
  capSecs: { error: 600, platform: 3600, timeout: 3600 },
} as const;

function resolveInt(spec: IntSpec | undefined, fallback: number, scope: EvaluatedParams, what: string, seconds = false): number {
  if (spec === undefined) return fallback;
  if (typeof spec === 'number') return spec;
  const text = interpolate(spec.template, (ref) => scope[ref.name]?.value);
  let n: number;
  try {
    // Backoff and cap fields also take duration texts ("1 min 40 s"), as Maestro does.
    n = seconds ? secondsOf(text) : Number(text);
  } catch {
    n = NaN;
  }
  if (!Number.isFinite(n) || n < 0) throw new Error(`retry_policy ${what}: ${spec.template} is ${text}, not a non-negative ${seconds ? 'duration' : 'number'}`);
  return n;
}

/**
 * The delay before retry number `retry` (1-based) of an error class: the base for FIXED_BACKOFF,
 * base × exponent^(retry-1) for EXPONENTIAL_BACKOFF (the default), never above the cap.
 */
export function backoffSeconds(backoff: Backoff | undefined, cls: ErrorClass, retry: number, scope: EvaluatedParams): number {
  const base = resolveInt(backoff?.[`${cls}RetryBackoffInSecs`], RETRY_DEFAULTS.backoffSecs[cls], scope, `${cls} backoff`, true);
  if (backoff?.type === 'FIXED_BACKOFF') return base;
  const exponent = resolveInt(backoff?.[`${cls}RetryExponent`], RETRY_DEFAULTS.exponent[cls], scope, `${cls} exponent`);
  const cap = resolveInt(backoff?.[`${cls}RetryLimitInSecs`], RETRY_DEFAULTS.capSecs[cls], scope, `${cls} backoff cap`, true);
  return Math.min(cap, base * exponent ** (retry - 1));
}

/**
 * Whether a failed attempt gets another one, and after how long (ms, before the time scale).
 * Only steps with a `retry_policy` are retried; its limits count earlier failures of the same
 * class (user error, platform error, timeout) of this step in this run.
 */
export async function planRetry(tx: Queryable, target: AttemptTarget, status: StepStatus): Promise<{ delayMs: number; retry: number; limit: number } | undefined> {
  const cls = CLASS_OF[status];
  const step = target.step;
  if (!cls || step.kind !== 'step' || !step.retryPolicy) return undefined;
  const policy: RetryPolicy = step.retryPolicy;
  const limit = resolveInt(policy[`${cls}RetryLimit`], RETRY_DEFAULTS.limit[cls], target.merged, `${cls} retry limit`);
  const res = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM baton_step_attempts WHERE instance_pk = $1 AND step_id = $2 AND status = $3 AND id <> $4',
    [target.ref.instancePk, target.ref.stepId, status, target.ref.attemptPk],
  );
  const earlier = res.rows[0]?.n ?? 0;
  if (earlier >= limit) return undefined;
  const retry = earlier + 1;
  return { delayMs: backoffSeconds(policy.backoff, cls, retry, target.merged) * 1000, retry, limit };
}

/** Creates the next attempt (holding the step's permit) and queues it for after the backoff. */
export async function scheduleRetry(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  target: AttemptTarget,
  plan: { delayMs: number; retry: number; limit: number },
  status: StepStatus,
): Promise<void> {
  const delay = plan.delayMs * ctx.timeScale;
  const res = await tx.query<{ attempt_pk: number }>(
    `WITH n AS (
       INSERT INTO baton_step_attempts (instance_pk, step_id, attempt_id, status, step_type)
       VALUES ($1, $2, $3, 'INITIALIZED', $4) ON CONFLICT (instance_pk, step_id, attempt_id) DO NOTHING RETURNING id
     ) INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message) SELECT id, NULL, 'INITIALIZED', $5 FROM n RETURNING attempt_pk`,
    [
      target.ref.instancePk, target.ref.stepId, target.ref.attemptId + 1, target.stepType,
      `retry ${plan.retry} of ${plan.limit} after ${status} of attempt ${target.ref.attemptId}, in ${Math.round(plan.delayMs) / 1000} s`,
    ],
  );
  const pk = res.rows[0]?.attempt_pk;
  if (pk !== undefined) await outbox.add({ ...stepJob(Number(pk)), runAt: new Date(Date.now() + delay) });
}
