import type { Queryable } from '../db/db.js';
import type { RunStrategy } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, writeInstanceTimeline, type EngineContext } from './context.js';
import { afterInstanceEnded, runStarted } from './run-lifecycle.js';
import { decodeParams, encodeParams, type EvaluatedParams } from './params.js';
import { DEFAULT_WORKFLOW_CONCURRENCY, evaluateWorkflowParams, noteDispatched, preEvaluateWorkflowParams, type OpenInstance, type PreEvaluated } from './workflow-params.js';
import { stopInstanceTx } from './stop.js';
import { scheduleWorkflowTimeout } from './workflow-timeout.js';



/**
 * Applies the workflow's run strategy to its queued (CREATED) instances, under a per-workflow
 * lock so dispatchers in several processes never both start the "one" instance:
 * - SEQUENTIAL: FIFO, one at a time.
 * - STRICT_SEQUENTIAL: as SEQUENTIAL, and a FAILED run blocks later ones until `unblock`.
 * - FIRST_ONLY: while one runs, newer ones are stopped.
 * - LAST_ONLY: the newest one runs; older running and queued ones are stopped.
 * - PARALLEL: FIFO, up to `workflow_concurrency` at once.
 * - SERIAL_LATEST_ONLY: one at a time; of the queued ones only the newest waits, older queued
 *   ones are stopped (the running one is not).
 */
export async function dispatchWorkflow(ctx: EngineContext, workflowId: string): Promise<void> {
  // Params that may wait for a SEL worker are evaluated before the transaction, not inside it.
  const pre = await preEvaluateWorkflowParams(ctx, workflowId);
  await ctx.queue.tx(async (tx, outbox) => {
    // An advisory lock, not the state row's: starts update that row (the instance counter) and
    // must not queue behind a dispatch.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('baton.dispatch:' || $1, 0))`, [workflowId]);
    const state = await tx.query<{ blocked_by_instance: number | null }>(
      'SELECT blocked_by_instance FROM baton_workflow_state WHERE workflow_id = $1',
      [workflowId],
    );
    if (state.rows.length === 0) return;
    const open = (
      await tx.query<OpenInstance>(
        `SELECT id, version, instance_id, run_id, status, run_params, created_at, initiator FROM baton_workflow_instances
         WHERE workflow_id = $1 AND status IN ('CREATED', 'IN_PROGRESS', 'PAUSED') ORDER BY instance_id, run_id`,
        [workflowId],
      )
    ).rows;
    const queued = open.filter((i) => i.status === 'CREATED');
    if (queued.length === 0) return;
    const running = open.filter((i) => i.status !== 'CREATED');
    // Properties (the run strategy among them) are the workflow's current ones, whatever version
    // each instance runs.
    const current = (await ctx.versions.get(workflowId, 'latest', tx)) ?? (await ctx.versions.require(workflowId, Math.max(...open.map((i) => i.version)), tx));
    noteDispatched(ctx, workflowId, [current]);
    const strategy: RunStrategy = current.properties.runStrategy ?? { rule: 'SEQUENTIAL' };
    const blocked = state.rows[0]!.blocked_by_instance;

    switch (strategy.rule) {
      case 'SEQUENTIAL':
      case 'STRICT_SEQUENTIAL':
        if (running.length === 0 && !(strategy.rule === 'STRICT_SEQUENTIAL' && blocked != null)) {
          await begin(ctx, tx, outbox, workflowId, queued[0]!, pre);
        }
        break;
      case 'FIRST_ONLY': {
        let rest = queued;
        if (running.length === 0) {
          await begin(ctx, tx, outbox, workflowId, queued[0]!, pre);
          rest = queued.slice(1);
        }
        for (const i of rest) await stopInstanceTx(ctx, tx, outbox, i.id, 'STOPPED', 'FIRST_ONLY run strategy: another instance is running');
        break;
      }
      case 'LAST_ONLY': {
        const last = queued.at(-1)!;
        for (const i of [...running, ...queued.slice(0, -1)]) {
          await stopInstanceTx(ctx, tx, outbox, i.id, 'STOPPED', `LAST_ONLY run strategy: superseded by instance ${last.instance_id}`);
        }
        await begin(ctx, tx, outbox, workflowId, last, pre);
        break;
      }
      case 'SERIAL_LATEST_ONLY': {
        // One at a time, as SEQUENTIAL, but only the newest queued instance waits: older queued
        // ones are stopped when a newer one arrives (a running instance is never stopped).
        const last = queued.at(-1)!;
        for (const i of queued.slice(0, -1)) {
          await stopInstanceTx(ctx, tx, outbox, i.id, 'STOPPED', `SERIAL_LATEST_ONLY run strategy: superseded by instance ${last.instance_id}`);
        }
        if (running.length === 0) await begin(ctx, tx, outbox, workflowId, last, pre);
        break;
      }
      case 'PARALLEL': {
        const limit = strategy.maxConcurrency ?? DEFAULT_WORKFLOW_CONCURRENCY;
        for (const i of queued.slice(0, Math.max(0, limit - running.length))) await begin(ctx, tx, outbox, workflowId, i, pre);
        break;
      }
    }
  });
}

/** CREATED → IN_PROGRESS: evaluates the workflow params (a failure fails the instance). */
async function begin(ctx: EngineContext, tx: Queryable, outbox: Outbox, workflowId: string, inst: OpenInstance, pre: PreEvaluated): Promise<void> {
  const def = await ctx.versions.require(workflowId, inst.version, tx);
  let params: EvaluatedParams;
  try {
    const ready = pre.get(inst.id);
    if (ready && !ready.ok) throw ready.error;
    params = ready ? ready.params : await evaluateWorkflowParams(ctx, tx, def, inst, decodeParams(inst.run_params));
  } catch (e) {
    const reason = `workflow params: ${(e as Error).message}`;
    const res = await tx.query(
      `UPDATE baton_workflow_instances SET status = 'FAILED', reason = $2, started_at = now(), ended_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'CREATED'`,
      [inst.id, reason],
    );
    if (res.rowCount > 0) {
      await writeInstanceTimeline(tx, inst.id, 'CREATED', 'FAILED', reason);
      runStarted(ctx, outbox, workflowId);
      await afterInstanceEnded(ctx, tx, outbox, def, inst, 'FAILED', reason);
    }
    return;
  }
  const res = await tx.query(
    `UPDATE baton_workflow_instances SET status = 'IN_PROGRESS', params = $2::jsonb, started_at = now(), updated_at = now()
     WHERE id = $1 AND status = 'CREATED'`,
    [inst.id, encodeParams(params)],
  );
  if (res.rowCount === 0) return;
  await writeInstanceTimeline(tx, inst.id, 'CREATED', 'IN_PROGRESS', 'started by the run strategy');
  runStarted(ctx, outbox, workflowId);
  await outbox.add(advanceJob(inst.id));
  await scheduleWorkflowTimeout(ctx, tx, outbox, def, inst.id);
}
