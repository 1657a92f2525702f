import type { Job } from '../queue/queue.js';
import type { JobContext, JobHandler } from '../queue/worker.js';
import type { EngineContext, StepRef } from './context.js';
import { stopChildren } from './foreach.js';
import { endAttempt } from './step-ending.js';
import { STEP_TERMINAL, type StepStatus } from './status.js';
import { stopInstanceTx } from './stop.js';
import { errorText, isTransientError } from './transient.js';

/** How often the engine retries a job that failed on a passing platform problem, and how long it waits. */
export interface PlatformRetry {
  /** Deliveries of one job before its step or instance fails (default 10). */
  attempts: number;
  /** Cap on the exponential backoff between them, seconds (default 60; 2, 4, 8, ... up to it). */
  maxBackoffSeconds: number;
}

export const DEFAULT_PLATFORM_RETRY: PlatformRetry = { attempts: 10, maxBackoffSeconds: 60 };

/**
 * Every instance reaches a terminal state: a job working on one step attempt (or one instance)
 * that fails with an error that is not a passing platform problem ends that attempt
 * INTERNALLY_FAILED (or the instance FAILED) with the error as the reason, at once; a
 * passing problem (lost connection, deadlock) is retried by the queue with backoff, and after
 * `retry.attempts` deliveries the attempt ends PLATFORM_FAILED (the instance FAILED) with the
 * last error. The instance then ends as the step's failure mode says. If even
 * recording that fails, the error goes back to the queue, which tries again later.
 */
export function endingOnError(
  ctx: EngineContext,
  retry: PlatformRetry,
  target: 'attempt' | 'instance',
  what: string,
  handler: JobHandler,
  report?: (err: unknown, job: Job) => void,
): JobHandler {
  return async (job: Job, jc: JobContext) => {
    try {
      await handler(job, jc);
    } catch (e) {
      if (jc.signal.aborted) throw e;
      const transient = isTransientError(e);
      if (transient && job.attempts < retry.attempts) throw e;
      const reason = transient
        ? `${what} gave up after ${job.attempts} attempts on a platform error: ${errorText(e)}`
        : `${what} failed: ${errorText(e)}`;
      try {
        if (target === 'attempt') await failAttempt(ctx, Number(job.payload.attemptPk), transient ? 'PLATFORM_FAILED' : 'INTERNALLY_FAILED', reason);
        else await ctx.queue.tx((tx, outbox) => stopInstanceTx(ctx, tx, outbox, Number(job.payload.instancePk), 'FAILED', reason, 'kill'));
      } catch (again) {
        throw new Error(`${reason}; recording the failure failed too: ${errorText(again)}`, { cause: again });
      }
      report?.(e, job);
    }
  };
}

/** Ends an open attempt (and what a loop or subworkflow step runs below it) with `reason`. */
async function failAttempt(ctx: EngineContext, attemptPk: number, status: StepStatus, reason: string): Promise<void> {
  await ctx.queue.tx(async (tx, outbox) => {
    const row = (
      await tx.query<{ step_id: string; attempt_id: number; status: StepStatus; generation: number; instance_pk: number; workflow_id: string; version: number; instance_id: number; run_id: number }>(
        `SELECT a.step_id, a.attempt_id, a.status, a.generation, a.instance_pk, i.workflow_id, i.version, i.instance_id, i.run_id
         FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE a.id = $1 FOR UPDATE OF a`,
        [attemptPk],
      )
    ).rows[0];
    if (!row || STEP_TERMINAL.has(row.status)) return;
    const ref: StepRef = {
      workflowId: row.workflow_id, version: row.version, instanceId: Number(row.instance_id), runId: row.run_id,
      instancePk: Number(row.instance_pk), stepId: row.step_id, attemptId: row.attempt_id, attemptPk,
    };
    await stopChildren(ctx, tx, outbox, attemptPk, reason);
    await endAttempt(ctx, tx, outbox, ref, Number(row.generation), row.status, status, reason, {}, null, {});
  });
}
