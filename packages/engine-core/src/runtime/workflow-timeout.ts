import type { Queryable } from '../db/db.js';
import type { DurationSpec } from '../definition/model.js';
import type { JobSpec, Outbox } from '../queue/queue.js';
import type { CachedVersion, EngineContext, InstanceCompletedEvent } from './context.js';
import { decodeParams, type EvaluatedParams } from './params.js';
import { stopInstanceTx } from './stop.js';
import { timeoutSeconds } from './timeouts.js';

/**
 * Workflow timeouts (`timeout` on the workflow definition). When an instance starts running, a
 * delayed job is queued in the same transaction for the moment its time is up; being a queue row,
 * it fires after a restart or on another process too. It ends the instance TIMED_OUT if it is
 * still open, stopping its open steps and the loop iterations and subworkflows below them; the
 * run strategy then moves on as for any other ending. An instance that ends first drops its job.
 */
export const JOB_WORKFLOW_TIMEOUT = 'engine.workflow-timeout';

function jobKey(instancePk: number): string {
  return `workflow-timeout:${instancePk}`;
}

export function workflowTimeoutJob(instancePk: number, runAt: Date): JobSpec {
  return { kind: JOB_WORKFLOW_TIMEOUT, key: jobKey(instancePk), payload: { instancePk }, runAt };
}

interface Limit {
  /**
   * Milliseconds after the start. Wall-clock time, not scaled by the engine's `timeScale`: the
   * limit covers waiting for signals, permits and queues too, which no time scale shortens.
   */
  ms: number;
  text: string;
}

/** The instance's limit, or an error message when a `${param}` template does not give a duration. */
function resolve(spec: DurationSpec, params: EvaluatedParams): Limit | { error: string } {
  let seconds: number | undefined;
  try {
    seconds = timeoutSeconds(spec, params);
  } catch (e) {
    const message = (e as Error).message;
    const template = 'template' in spec ? spec.template : String(spec.seconds);
    return { error: message.startsWith('timeout ') ? `workflow ${message}` : `workflow timeout ${template}: ${message}` };
  }
  if (seconds === undefined) return { error: 'workflow timeout is not set' };
  const text = describeSeconds(seconds);
  return { ms: seconds * 1000, text: 'template' in spec ? `${text} (${spec.template})` : text };
}

/** 5400 → "1h 30m", 90 → "1m 30s", 2 → "2s". */
export function describeSeconds(seconds: number): string {
  const parts: string[] = [];
  let left = seconds;
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    const n = Math.floor(left / size);
    if (n > 0) parts.push(`${n}${unit}`);
    left -= n * size;
  }
  if (left > 0 || parts.length === 0) parts.push(`${Math.round(left * 1000) / 1000}s`);
  return parts.join(' ');
}

/**
 * Queues the timeout of an instance that just started running (call it in the transaction that
 * recorded IN_PROGRESS). Nothing when its workflow has no timeout. The deadline counts from the
 * stored `started_at`, so the job and its check agree on the database's clock. A template that
 * does not resolve queues the job at once: it ends the instance FAILED with the reason.
 */
export async function scheduleWorkflowTimeout(ctx: EngineContext, tx: Queryable, outbox: Outbox, def: CachedVersion, instancePk: number): Promise<void> {
  const spec = def.workflow.timeout;
  if (!spec) return;
  const row = (await tx.query<{ started_at: Date | string | null; params: unknown }>('SELECT started_at, params FROM baton_workflow_instances WHERE id = $1', [instancePk])).rows[0];
  if (!row) return;
  const limit = resolve(spec, decodeParams(row.params));
  const start = row.started_at ? new Date(row.started_at).getTime() : Date.now();
  await outbox.add(workflowTimeoutJob(instancePk, new Date('error' in limit ? start : start + limit.ms)));
}

/**
 * The timeout job: ends the instance TIMED_OUT when it is still open and its time is up. A no-op
 * for an instance that already ended. Runs again safely (the ending is guarded by the status).
 */
export async function runWorkflowTimeoutJob(ctx: EngineContext, instancePk: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    const early = await ctx.queue.tx(async (tx, outbox) => {
      const inst = (
        await tx.query<{ workflow_id: string; version: number; status: string; params: unknown; started_at: Date | string | null; now: Date | string }>(
          `SELECT workflow_id, version, status, params, started_at, now() AS now FROM baton_workflow_instances
           WHERE id = $1 AND status IN ('CREATED', 'IN_PROGRESS', 'PAUSED') FOR UPDATE`,
          [instancePk],
        )
      ).rows[0];
      if (!inst || inst.status === 'CREATED') return 0;
      const def = await ctx.versions.require(inst.workflow_id, inst.version, tx);
      if (!def.workflow.timeout) return 0;
      const limit = resolve(def.workflow.timeout, decodeParams(inst.params));
      if ('error' in limit) {
        await stopInstanceTx(ctx, tx, outbox, instancePk, 'FAILED', limit.error);
        return 0;
      }
      const started = inst.started_at ? new Date(inst.started_at).getTime() : 0;
      // Claimed before the deadline only if the job was queued with another limit: wait it out.
      const left = started + limit.ms - new Date(inst.now).getTime();
      if (left > 0) return left;
      await stopInstanceTx(ctx, tx, outbox, instancePk, 'TIMED_OUT', `workflow timed out: still running after its timeout of ${limit.text}`);
      return 0;
    });
    if (early <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, early);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      }, { once: true });
    });
  }
}

/** Instance completion hook: an instance that ended (in time or not) no longer needs its timeout job. */
export async function dropWorkflowTimeout(ctx: EngineContext, tx: Queryable, event: InstanceCompletedEvent): Promise<void> {
  const def = await ctx.versions.require(event.workflowId, event.version, tx);
  if (!def.workflow.timeout) return;
  await tx.query('DELETE FROM baton_jobs WHERE job_key = $1', [jobKey(event.instancePk)]);
}
