import type { Queryable } from '../db/db.js';
import type { Outbox } from '../queue/queue.js';
import { stepJob, writeInstanceTimeline, writeStepTimeline, type EngineContext } from './context.js';
import { afterInstanceEnded } from './run-lifecycle.js';
import { stepHooksNoting } from './hooks.js';
import { decodeParams } from './params.js';

const OPEN = `('CREATED', 'IN_PROGRESS', 'PAUSED')`;
const STEP_OPEN = `('CREATED', 'INITIALIZED', 'PAUSED', 'WAITING_FOR_SIGNALS', 'EVALUATING_PARAMS', 'WAITING_FOR_PERMITS', 'STARTING', 'RUNNING', 'FINISHING')`;

/**
 * How the open attempts of an ended instance end: `stop` (STOPPED; loop iterations and
 * subworkflows below are stopped) or `kill` (FATALLY_FAILED, as a killed step; what runs below is
 * killed too).
 */
export type StopMode = 'stop' | 'kill';

/**
 * Ends an open instance (STOPPED; FAILED for FAIL_IMMEDIATELY or a kill; TIMED_OUT for a workflow
 * timeout) and ends its open attempts as `mode` says.
 * Each ended attempt gets a new generation, so its runner can no longer record a result, and
 * its queue job is deleted, so the runner's next lease renewal fails and aborts it wherever it
 * runs; runners in this process are aborted at once after commit. Step completion hooks hear of
 * each ended attempt (a step waiting for signals drops its waiter). Returns false when the
 * instance had already ended.
 */
export async function stopInstanceTx(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  instancePk: number,
  status: 'STOPPED' | 'FAILED' | 'TIMED_OUT',
  reason: string,
  mode: StopMode = 'stop',
): Promise<boolean> {
  const stepStatus = mode === 'kill' ? 'FATALLY_FAILED' : 'STOPPED';
  const inst = await tx.query<{ id: number; workflow_id: string; version: number; instance_id: number; run_id: number; old: string }>(
    `WITH old AS (SELECT id, status FROM baton_workflow_instances WHERE id = $1 AND status IN ${OPEN} FOR UPDATE)
     UPDATE baton_workflow_instances i SET status = $2, reason = $3, ended_at = now(), updated_at = now()
     FROM old WHERE i.id = old.id
     RETURNING i.id, i.workflow_id, i.version, i.instance_id, i.run_id, old.status AS old`,
    [instancePk, status, reason],
  );
  const row = inst.rows[0];
  if (!row) return false;
  await writeInstanceTimeline(tx, instancePk, row.old, status, reason);
  const steps = await tx.query<{ id: number; old: string; step_id: string; attempt_id: number; params: unknown }>(
    `WITH old AS (SELECT id, status FROM baton_step_attempts WHERE instance_pk = $1 AND status IN ${STEP_OPEN} FOR UPDATE)
     UPDATE baton_step_attempts a SET status = $3, generation = a.generation + 1, reason = $2,
       ended_at = now(), updated_at = now()
     FROM old WHERE a.id = old.id RETURNING a.id, old.status AS old, a.step_id, a.attempt_id, a.params`,
    [instancePk, reason, stepStatus],
  );
  if (steps.rows.length > 0) {
    await writeStepTimeline(
      tx,
      steps.rows.map((s) => ({ attemptPk: s.id, from: s.old, to: stepStatus, message: reason })),
    );
    await tx.query('DELETE FROM baton_jobs WHERE job_key = ANY($1::text[])', [steps.rows.map((s) => stepJob(s.id).key)]);
    outbox.afterCommit(() => {
      for (const s of steps.rows) ctx.running.get(s.id)?.abort(new Error(reason));
    });
    for (const s of steps.rows) {
      const ref = {
        workflowId: row.workflow_id, version: row.version, instanceId: Number(row.instance_id), runId: row.run_id, instancePk,
        stepId: s.step_id, attemptId: s.attempt_id, attemptPk: Number(s.id),
      };
      await stepHooksNoting(tx, outbox, ctx.stepHooks, { ...ref, status: stepStatus, params: decodeParams(s.params), outputs: {} });
    }
  }
  // Loop iterations (and what they started) end with the attempt that runs them.
  const children = await tx.query<{ id: number }>(
    `SELECT c.id FROM baton_workflow_instances c JOIN baton_step_attempts a ON a.id = c.parent_attempt_pk
     WHERE a.instance_pk = $1 AND c.status IN ${OPEN} ORDER BY c.id`,
    [instancePk],
  );
  for (const c of children.rows) await stopInstanceTx(ctx, tx, outbox, c.id, mode === 'kill' ? 'FAILED' : 'STOPPED', reason, mode);
  const def = await ctx.versions.require(row.workflow_id, row.version, tx);
  await afterInstanceEnded(ctx, tx, outbox, def, row, status, reason);
  return true;
}

/** Stops a workflow instance (its latest run). False when it does not exist or already ended. */
export async function stopInstance(ctx: EngineContext, workflowId: string, instanceId: number, reason = 'stopped by request'): Promise<boolean> {
  return endLatestRun(ctx, workflowId, instanceId, 'STOPPED', reason, 'stop');
}

/**
 * Kills a workflow instance (its latest run), as Maestro's kill does: it ends FAILED, not STOPPED,
 * so the run strategy takes it as a failure (STRICT_SEQUENTIAL blocks the queue behind it); its
 * open steps end FATALLY_FAILED, as a killed step does, and the loop iterations and subworkflows
 * they run are killed too. False when it does not exist or already ended.
 */
export async function killInstance(ctx: EngineContext, workflowId: string, instanceId: number, reason = 'killed by request'): Promise<boolean> {
  return endLatestRun(ctx, workflowId, instanceId, 'FAILED', reason, 'kill');
}

async function endLatestRun(ctx: EngineContext, workflowId: string, instanceId: number, status: 'STOPPED' | 'FAILED', reason: string, mode: StopMode): Promise<boolean> {
  return ctx.queue.tx(async (tx, outbox) => {
    const res = await tx.query<{ id: number }>(
      `SELECT id FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 ORDER BY run_id DESC LIMIT 1`,
      [workflowId, instanceId],
    );
    const pk = res.rows[0]?.id;
    if (pk === undefined) return false;
    return stopInstanceTx(ctx, tx, outbox, pk, status, reason, mode);
  });
}
