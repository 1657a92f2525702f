import { DEFAULT_STEP_CONCURRENCY } from '../definition/model.js';
import { stepJob, writeInstanceTimeline, writeStepTimeline, type EngineContext } from './context.js';
import { decide, outcome, type StepState } from './dag-state.js';
import { afterInstanceEnded } from './run-lifecycle.js';
import { STEP_ACTIVE, STEP_FAILED, type StepStatus } from './status.js';
import { stopInstanceTx } from './stop.js';

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
 */
export async function advanceInstance(ctx: EngineContext, instancePk: number): Promise<void> {
  await ctx.queue.tx(async (tx, outbox) => {
    const inst = (
      await tx.query<{ id: number; workflow_id: string; version: number; instance_id: number; run_id: number; status: string }>(
        'SELECT id, workflow_id, version, instance_id, run_id, status FROM baton_workflow_instances WHERE id = $1 FOR UPDATE',
        [instancePk],
      )
    ).rows[0];
    if (!inst || inst.status !== 'IN_PROGRESS') return;
    const def = await ctx.versions.require(inst.workflow_id, inst.version, tx);
    const rows = (
      await tx.query<AttemptRow>(
        `SELECT DISTINCT ON (step_id) id, step_id, status, edges FROM baton_step_attempts
         WHERE instance_pk = $1 ORDER BY step_id, attempt_id DESC`,
        [instancePk],
      )
    ).rows;
    const states = new Map<string, StepState>(rows.map((r) => [r.step_id, { status: r.status, edges: r.edges }]));

    const failFast = rows.find((r) => STEP_FAILED.has(r.status) && def.dag.steps.get(r.step_id)?.failureMode === 'FAIL_IMMEDIATELY');
    if (failFast) {
      await stopInstanceTx(ctx, tx, outbox, instancePk, 'FAILED', `step ${failFast.step_id} failed with failure mode FAIL_IMMEDIATELY`);
      return;
    }

    const decision = decide(def.dag, states);
    const created: { id: number; step_id: string; status: StepStatus }[] = [];
    if (decision.ready.length + decision.unsatisfied.length > 0) {
      const ids = [...decision.ready, ...decision.unsatisfied];
      const statuses = ids.map((id) => (decision.ready.includes(id) ? 'CREATED' : 'UNSATISFIED'));
      const types = ids.map((id) => {
        const s = def.dag.steps.get(id)!;
        return s.kind === 'step' ? s.type : s.kind;
      });
      const ins = await tx.query<{ id: number; step_id: string; status: StepStatus }>(
        `INSERT INTO baton_step_attempts (instance_pk, step_id, attempt_id, status, step_type, ended_at)
         SELECT $1, s, 1, st, t, CASE WHEN st = 'UNSATISFIED' THEN now() END
         FROM unnest($2::text[], $3::text[], $4::text[]) AS x(s, st, t)
         ON CONFLICT (instance_pk, step_id, attempt_id) DO NOTHING
         RETURNING id, step_id, status`,
        [instancePk, ids, statuses, types],
      );
      created.push(...ins.rows);
      await writeStepTimeline(
        tx,
        ins.rows.map((r) => ({
          attemptPk: r.id,
          from: null,
          to: r.status,
          message: r.status === 'CREATED' ? 'predecessors done, an incoming condition is true' : 'no incoming condition is true',
        })),
      );
      for (const r of ins.rows) states.set(r.step_id, { status: r.status });
    }

    // Permits: CREATED rows (older first) while fewer than step_concurrency steps are active.
    const limit = def.properties.stepConcurrency ?? DEFAULT_STEP_CONCURRENCY;
    let active = 0;
    const waiting: { id: number }[] = [];
    for (const r of rows) {
      if (STEP_ACTIVE.has(r.status)) active++;
      else if (r.status === 'CREATED') waiting.push(r);
    }
    for (const r of created) if (r.status === 'CREATED') waiting.push(r);
    waiting.sort((a, b) => a.id - b.id);
    const grant = waiting.slice(0, Math.max(0, limit - active)).map((r) => r.id);
    if (grant.length > 0) {
      const up = await tx.query<{ id: number; step_id: string }>(
        `UPDATE baton_step_attempts SET status = 'INITIALIZED', updated_at = now()
         WHERE id = ANY($1::bigint[]) AND status = 'CREATED' RETURNING id, step_id`,
        [grant],
      );
      await writeStepTimeline(
        tx,
        up.rows.map((r) => ({ attemptPk: r.id, from: 'CREATED', to: 'INITIALIZED', message: 'got a step_concurrency permit' })),
      );
      for (const r of up.rows) states.set(r.step_id, { status: 'INITIALIZED' });
      await outbox.addMany(up.rows.map((r) => stepJob(r.id)));
      outbox.afterCommit(() => {
        const t = performance.now();
        for (const r of up.rows) ctx.events.emit('step.ready', r.id, t);
      });
    }

    const end = outcome(states, decide(def.dag, states));
    if (end) {
      const failedStep = [...states.entries()].find(([, s]) => STEP_FAILED.has(s.status));
      const reason = end === 'FAILED' ? `step ${failedStep?.[0]} ended ${failedStep?.[1].status}` : null;
      const res = await tx.query(
        `UPDATE baton_workflow_instances SET status = $2, reason = $3, ended_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'IN_PROGRESS'`,
        [instancePk, end, reason],
      );
      if (res.rowCount > 0) {
        await writeInstanceTimeline(tx, instancePk, 'IN_PROGRESS', end, reason ?? 'every step ended');
        await afterInstanceEnded(ctx, tx, outbox, def, inst, end as 'SUCCEEDED' | 'FAILED' | 'STOPPED', reason);
      }
    }
  });
}
