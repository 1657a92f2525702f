import type { Queryable } from '../db/db.js';
import type { RunStrategy } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, writeInstanceTimeline, type CachedVersion, type EngineContext } from './context.js';
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
export async function dispatchWorkflow(ctx: EngineContext, workflowId: string, opts: { onlyIfQueued?: boolean } = {}): Promise<void> {
  // The wake-up an instance's ending adds (onlyIfQueued) mostly finds no queued instance. One
  // indexed read, committed state and no lock, settles that: the ending committed before this job
  // ran, and an instance queued after this read adds its own dispatch, which will see the ending.
  // (Asked before any await, so on PGlite it runs ahead of what the ending's commit woke.)
  if (opts.onlyIfQueued && !(await hasQueued(ctx.db, workflowId))) return;
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
    // Only what the run strategy acts on is read: the running instances (bounded by the strategy)
    // and the head of the queue. A backlog of queued instances is never read whole, so a dispatch
    // costs the same with ten or a hundred thousand of them waiting (see openInstances).
    const head = await openInstances(tx, workflowId, QUEUED, 1);
    if (head.length === 0) return;
    // Properties (the run strategy among them) are the workflow's current ones, whatever version
    // each instance runs.
    const current = (await ctx.versions.get(workflowId, 'latest', tx)) ?? (await ctx.versions.require(workflowId, await newestOpenVersion(tx, workflowId), tx));
    noteDispatched(ctx, workflowId, [current]);
    const strategy: RunStrategy = current.properties.runStrategy ?? { rule: 'SEQUENTIAL' };
    const blocked = state.rows[0]!.blocked_by_instance;
    // Only LAST_ONLY acts on the running instances themselves; the others need their number.
    const running = strategy.rule === 'LAST_ONLY' ? await openInstances(tx, workflowId, RUNNING, undefined) : [];
    const runningCount = strategy.rule === 'LAST_ONLY' ? running.length : await countRunning(tx, workflowId);
    const queued = (n: number | undefined) => (n === 1 ? Promise.resolve(head) : openInstances(tx, workflowId, QUEUED, n));

    switch (strategy.rule) {
      case 'SEQUENTIAL':
      case 'STRICT_SEQUENTIAL':
        if (runningCount === 0 && !(strategy.rule === 'STRICT_SEQUENTIAL' && blocked != null)) {
          await begin(ctx, tx, outbox, workflowId, [head[0]!], pre);
        }
        break;
      // The strategies below stop every queued instance but one, so their queue stays short.
      case 'FIRST_ONLY': {
        let rest = await queued(undefined);
        if (runningCount === 0) {
          await begin(ctx, tx, outbox, workflowId, [rest[0]!], pre);
          rest = rest.slice(1);
        }
        for (const i of rest) await stopInstanceTx(ctx, tx, outbox, i.id, 'STOPPED', 'FIRST_ONLY run strategy: another instance is running');
        break;
      }
      case 'LAST_ONLY': {
        const all = await queued(undefined);
        const last = all.at(-1)!;
        for (const i of [...running, ...all.slice(0, -1)]) {
          await stopInstanceTx(ctx, tx, outbox, i.id, 'STOPPED', `LAST_ONLY run strategy: superseded by instance ${last.instance_id}`);
        }
        await begin(ctx, tx, outbox, workflowId, [last], pre);
        break;
      }
      case 'SERIAL_LATEST_ONLY': {
        // One at a time, as SEQUENTIAL, but only the newest queued instance waits: older queued
        // ones are stopped when a newer one arrives (a running instance is never stopped).
        const all = await queued(undefined);
        const last = all.at(-1)!;
        for (const i of all.slice(0, -1)) {
          await stopInstanceTx(ctx, tx, outbox, i.id, 'STOPPED', `SERIAL_LATEST_ONLY run strategy: superseded by instance ${last.instance_id}`);
        }
        if (runningCount === 0) await begin(ctx, tx, outbox, workflowId, [last], pre);
        break;
      }
      case 'PARALLEL': {
        const free = (strategy.maxConcurrency ?? DEFAULT_WORKFLOW_CONCURRENCY) - runningCount;
        if (free > 0) await begin(ctx, tx, outbox, workflowId, await queued(free), pre);
        break;
      }
    }
  });
}

/**
 * The workflow's open instances in one status (QUEUED) or the running ones, oldest first, at most
 * `limit`. One status is an equality on the (workflow_id, status, instance_id) index, read in
 * order, so the head of a long queue costs only the rows it returns (a list of statuses would be
 * read whole and sorted).
 */
export const QUEUED = 'CREATED';
const RUNNING = null;

async function openInstances(tx: Queryable, workflowId: string, status: typeof QUEUED | typeof RUNNING, limit: number | undefined): Promise<OpenInstance[]> {
  const res = await tx.query<OpenInstance>(openInstancesSql(status), [workflowId, limit ?? null]);
  return res.rows;
}

/** The statement openInstances runs (exported for the plan check in tests). */
export function openInstancesSql(status: typeof QUEUED | typeof RUNNING): string {
  const where = status === QUEUED ? `status = 'CREATED'` : `status IN ('IN_PROGRESS', 'PAUSED')`;
  return `SELECT id, version, instance_id, run_id, status, run_params, created_at, initiator FROM baton_workflow_instances
     WHERE workflow_id = $1 AND ${where} ORDER BY instance_id, run_id LIMIT $2`;
}

async function hasQueued(q: Queryable, workflowId: string): Promise<boolean> {
  const res = await q.query(`SELECT 1 FROM baton_workflow_instances WHERE workflow_id = $1 AND status = '${QUEUED}' LIMIT 1`, [workflowId]);
  return res.rows.length > 0;
}

async function countRunning(tx: Queryable, workflowId: string): Promise<number> {
  const res = await tx.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM baton_workflow_instances WHERE workflow_id = $1 AND status IN ('IN_PROGRESS', 'PAUSED')`,
    [workflowId],
  );
  return Number(res.rows[0]!.n);
}

/** The newest version an open instance runs (when the workflow has no latest version any more). */
async function newestOpenVersion(tx: Queryable, workflowId: string): Promise<number> {
  const res = await tx.query<{ v: number }>(
    `SELECT max(version) AS v FROM baton_workflow_instances WHERE workflow_id = $1 AND status IN ('CREATED', 'IN_PROGRESS', 'PAUSED')`,
    [workflowId],
  );
  return Number(res.rows[0]!.v);
}

/**
 * CREATED → IN_PROGRESS for the instances the run strategy begins now, in a few statements
 * whatever their number: their workflow params are evaluated one by one (a failure fails that
 * instance alone), then one update, one timeline insert and one outbox insert cover the rest.
 */
async function begin(ctx: EngineContext, tx: Queryable, outbox: Outbox, workflowId: string, insts: readonly OpenInstance[], pre: PreEvaluated): Promise<void> {
  const ready: { inst: OpenInstance; def: CachedVersion; params: EvaluatedParams }[] = [];
  for (const inst of insts) {
    const def = await ctx.versions.require(workflowId, inst.version, tx);
    try {
      const got = pre.get(inst.id);
      if (got && !got.ok) throw got.error;
      ready.push({ inst, def, params: got ? got.params : await evaluateWorkflowParams(ctx, tx, def, inst, decodeParams(inst.run_params)) });
    } catch (e) {
      await failOnParams(ctx, tx, outbox, workflowId, def, inst, `workflow params: ${(e as Error).message}`);
    }
  }
  if (ready.length === 0) return;
  const res = await tx.query<{ id: number | string }>(
    `WITH u AS (
       UPDATE baton_workflow_instances i SET status = 'IN_PROGRESS', params = x.p::jsonb, started_at = now(), updated_at = now()
       FROM unnest($1::bigint[], $2::text[]) AS x(id, p) WHERE i.id = x.id AND i.status = 'CREATED'
       RETURNING i.id
     ), tl AS (
       INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message)
       SELECT id, 'CREATED', 'IN_PROGRESS', 'started by the run strategy' FROM u
     ) SELECT id FROM u`,
    [ready.map((r) => r.inst.id), ready.map((r) => encodeParams(r.params))],
  );
  const begun = new Set(res.rows.map((r) => Number(r.id)));
  const started = ready.filter((r) => begun.has(Number(r.inst.id)));
  for (const _ of started) runStarted(ctx, outbox, workflowId);
  await outbox.addMany(started.map((r) => advanceJob(r.inst.id)));
  for (const r of started) await scheduleWorkflowTimeout(ctx, tx, outbox, r.def, r.inst.id);
}

/** A queued instance whose workflow params cannot be evaluated ends FAILED without running. */
async function failOnParams(ctx: EngineContext, tx: Queryable, outbox: Outbox, workflowId: string, def: CachedVersion, inst: OpenInstance, reason: string): Promise<void> {
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
}
