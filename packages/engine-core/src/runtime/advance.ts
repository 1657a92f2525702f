import type { Queryable } from '../db/db.js';
import { DEFAULT_STEP_CONCURRENCY } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, stepJob, writeStepTimeline, type CachedVersion, type EngineContext } from './context.js';
import { completeInline, runsInline, type AdvancedInstance } from './inline-step.js';
import { decide, outcome, type StepState } from './dag-state.js';
import { afterInstanceEnded } from './run-lifecycle.js';
import { STEP_ACTIVE, STEP_FAILED, type StepStatus } from './status.js';
import { stopInstanceTx } from './stop.js';

const CREATED_MESSAGE = 'predecessors done, an incoming condition is true';
const UNSATISFIED_MESSAGE = 'no incoming condition is true';
const PERMIT_MESSAGE = 'got a step_concurrency permit';

interface AttemptRow {
  id: number;
  step_id: string;
  status: StepStatus;
  edges: Record<string, boolean> | null;
}

/**
 * Moves one instance forward, under its row lock: creates rows for steps that became ready
 * (CREATED) or can never run (UNSATISFIED), hands step_concurrency permits to CREATED steps in
 * creation order (INITIALIZED + a step job), applies FAIL_IMMEDIATELY, and ends the instance once
 * nothing is left to run. Idempotent: running it twice changes nothing the second time.
 * Steps that finish at once (NoOp, see inline-step.ts) finish here rather than in a step job; the
 * advance then goes on in the same transaction, pass after pass, as the advance jobs their
 * endings would have added.
 */
export async function advanceInstance(ctx: EngineContext, instancePk: number): Promise<void> {
  await ctx.queue.tx(async (tx, outbox) => {
    const inst = (
      await tx.query<AdvancedInstance & { status: string; parent_attempt_pk: number | null }>(
        `SELECT i.id, i.workflow_id, i.version, i.instance_id, i.run_id, i.status, i.parent_attempt_pk, i.params,
           EXISTS (SELECT 1 FROM baton_breakpoints b WHERE b.workflow_id = split_part(i.workflow_id, '#', 1)) AS breakpoints
         FROM baton_workflow_instances i WHERE i.id = $1 FOR UPDATE OF i`,
        [instancePk],
      )
    ).rows[0];
    if (!inst || inst.status !== 'IN_PROGRESS') return;
    const def = await ctx.versions.require(inst.workflow_id, inst.version, tx);
    // Each pass finishes at least one step inline or is the last, so the DAG's size bounds them.
    let known: AttemptRow[] | undefined;
    for (let pass = 0; pass <= def.dag.steps.size; pass++) {
      const next = await advancePass(ctx, tx, outbox, def, inst, known);
      if (next === false) return;
      known = next === 'reread' ? undefined : next;
    }
    await outbox.add(advanceJob(instancePk));
  });
}

/**
 * One pass of the advance over the instance's latest attempts (read, or `known` from the pass
 * before). False when it is done; else steps finished inline and another pass must follow, over
 * the attempts as this pass left them ('reread' when a hook changed an ending).
 */
async function advancePass(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  def: CachedVersion,
  inst: AdvancedInstance & { parent_attempt_pk: number | null },
  known: AttemptRow[] | undefined,
): Promise<false | AttemptRow[] | 'reread'> {
  const instancePk = Number(inst.id);
  const rows =
    known ??
    (
      await tx.query<AttemptRow>(
        `SELECT DISTINCT ON (step_id) id, step_id, status, edges FROM baton_step_attempts
         WHERE instance_pk = $1 ORDER BY step_id, attempt_id DESC`,
        [instancePk],
      )
    ).rows;
  const after = new Map<string, AttemptRow>(rows.map((r) => [r.step_id, { ...r }]));
  const states = new Map<string, StepState>(rows.map((r) => [r.step_id, { status: r.status, edges: r.edges }]));

  const failFast = rows.find((r) => STEP_FAILED.has(r.status) && def.dag.steps.get(r.step_id)?.failureMode === 'FAIL_IMMEDIATELY');
  if (failFast) {
    await stopInstanceTx(ctx, tx, outbox, instancePk, 'FAILED', `step ${failFast.step_id} failed with failure mode FAIL_IMMEDIATELY`);
    return false;
  }

  // Permits: CREATED steps, older first, while fewer than step_concurrency are active. Steps
  // that become ready now are inserted already INITIALIZED when a permit is free (one statement
  // with their timeline), so a step that can start costs no second update.
  const decision = decide(def.dag, states);
  const limit = def.properties.stepConcurrency ?? DEFAULT_STEP_CONCURRENCY;
  let active = 0;
  const waiting: { id: number }[] = [];
  for (const r of rows) {
    if (STEP_ACTIVE.has(r.status)) active++;
    else if (r.status === 'CREATED') waiting.push(r);
  }
  waiting.sort((a, b) => a.id - b.id);
  let free = Math.max(0, limit - active);
  const grantOld = waiting.slice(0, free).map((r) => r.id);
  free -= grantOld.length;
  const ready: { id: number; step_id: string }[] = [];
  if (decision.ready.length + decision.unsatisfied.length > 0) {
    const ids = [...decision.ready, ...decision.unsatisfied];
    const statuses = ids.map((_, k) => (k >= decision.ready.length ? 'UNSATISFIED' : k < free ? 'INITIALIZED' : 'CREATED'));
    const types = ids.map((id) => {
      const s = def.dag.steps.get(id)!;
      return s.kind === 'step' ? s.type : s.kind;
    });
    const ins = await tx.query<{ id: number; step_id: string; status: StepStatus }>(
      `WITH a AS (
         INSERT INTO baton_step_attempts (instance_pk, step_id, attempt_id, status, step_type, ended_at)
         SELECT $1, s, 1, st, t, CASE WHEN st = 'UNSATISFIED' THEN now() END
         FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(s, st, t, o) ORDER BY o
         ON CONFLICT (instance_pk, step_id, attempt_id) DO NOTHING
         RETURNING id, step_id, status
       ), t AS (
         INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message)
         SELECT a.id, e.f, e.t, e.m FROM a CROSS JOIN LATERAL (VALUES
             (1, NULL, CASE WHEN a.status = 'UNSATISFIED' THEN 'UNSATISFIED' ELSE 'CREATED' END,
              CASE WHEN a.status = 'UNSATISFIED' THEN $6 ELSE $5 END),
             (2, 'CREATED', 'INITIALIZED', $7)
           ) AS e(n, f, t, m)
         WHERE e.n = 1 OR a.status = 'INITIALIZED'
         ORDER BY a.id, e.n
       ) SELECT id, step_id, status FROM a ORDER BY id`,
      [instancePk, ids, statuses, types, CREATED_MESSAGE, UNSATISFIED_MESSAGE, PERMIT_MESSAGE],
    );
    for (const r of ins.rows) {
      states.set(r.step_id, { status: r.status });
      after.set(r.step_id, { ...r, edges: null });
      if (r.status === 'INITIALIZED') ready.push(r);
    }
  }
  if (grantOld.length > 0) {
    const up = await tx.query<{ id: number; step_id: string }>(
      `UPDATE baton_step_attempts SET status = 'INITIALIZED', updated_at = now()
       WHERE id = ANY($1::bigint[]) AND status = 'CREATED' RETURNING id, step_id`,
      [grantOld],
    );
    await writeStepTimeline(
      tx,
      up.rows.map((r) => ({ attemptPk: r.id, from: 'CREATED', to: 'INITIALIZED', message: PERMIT_MESSAGE })),
    );
    for (const r of up.rows) {
      states.set(r.step_id, { status: 'INITIALIZED' });
      after.get(r.step_id)!.status = 'INITIALIZED';
    }
    ready.unshift(...up.rows);
  }
  if (ready.length > 0) {
    const inline = ready.filter((r) => runsInline(ctx, def, r.step_id, inst));
    const jobs = ready.filter((r) => !inline.includes(r));
    if (jobs.length > 0) await outbox.addMany(jobs.map((r) => stepJob(r.id)));
    // A step job's launch latency runs from the commit of its permit; an inline step's from now,
    // when its permit is granted in the transaction that also runs it.
    const readyAt = performance.now();
    outbox.afterCommit(() => {
      const t = performance.now();
      for (const r of ready) ctx.events.emit('step.ready', r.id, inline.includes(r) ? readyAt : t);
    });
    let reread = false;
    for (const r of inline) {
      const ended = await completeInline(ctx, tx, outbox, def, inst, r);
      if (ended === 'reread') reread = true;
      else Object.assign(after.get(r.step_id)!, ended);
    }
    if (inline.length > 0) return reread ? 'reread' : [...after.values()];
  }

  const end = outcome(states, decide(def.dag, states));
  if (end) {
    const failedStep = [...states.entries()].find(([, s]) => STEP_FAILED.has(s.status));
    const reason = end === 'FAILED' ? `step ${failedStep?.[0]} ended ${failedStep?.[1].status}` : null;
    // The ending and its timeline row in one statement.
    const res = await tx.query(
      `WITH u AS (
         UPDATE baton_workflow_instances SET status = $2, reason = $3, ended_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'IN_PROGRESS' RETURNING id
       ), t AS (
         INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message) SELECT id, 'IN_PROGRESS', $2, $4 FROM u
       ) SELECT id FROM u`,
      [instancePk, end, reason, reason ?? 'every step ended'],
    );
    if (res.rows.length > 0) {
      await afterInstanceEnded(ctx, tx, outbox, def, inst, end as 'SUCCEEDED' | 'FAILED' | 'STOPPED', reason);
    }
  }
  return false;
}
