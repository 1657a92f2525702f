import type { Queryable } from '../db/db.js';
import { decodeParams } from './params.js';
import type { InstanceStatus } from './status.js';

/** The step that started a run: a subworkflow step, or the loop step of an iteration. */
export interface ParentRef {
  kind: 'SUBWORKFLOW' | 'FOREACH' | 'WHILE';
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  /** The iteration's index (loops only). */
  iteration: number | null;
}

/** The run a subworkflow step started. */
export interface ChildRef {
  workflowId: string;
  instanceId: number;
  /** Its latest run's status (null when the child is gone). */
  status: InstanceStatus | null;
}

/** The parent step of an instance row with `parent_attempt_pk` set; undefined for a top-level run. */
export async function parentOf(q: Queryable, parentAttemptPk: number | null, iteration: number | string | null, ownWorkflowId: string): Promise<ParentRef | undefined> {
  if (parentAttemptPk == null) return undefined;
  const p = (
    await q.query<{ workflow_id: string; instance_id: string | number; run_id: number; step_id: string; attempt_id: number; step_type: string | null }>(
      `SELECT i.workflow_id, i.instance_id, i.run_id, a.step_id, a.attempt_id, a.step_type
       FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE a.id = $1`,
      [parentAttemptPk],
    )
  ).rows[0];
  if (!p) return undefined;
  // An iteration's workflow id is its loop's inline id (`<parent>#<step>`); a subworkflow's is its own.
  const loop = ownWorkflowId.includes('#');
  const kind: ParentRef['kind'] = !loop ? 'SUBWORKFLOW' : p.step_type === 'while' ? 'WHILE' : 'FOREACH';
  return { kind, workflowId: p.workflow_id, instanceId: Number(p.instance_id), runId: p.run_id, stepId: p.step_id, attemptId: p.attempt_id, iteration: loop && iteration != null ? Number(iteration) : null };
}

/**
 * The child runs of a run's subworkflow steps, by step id. `attempts` are the latest attempt of
 * each step (pk and stored params/outputs). A step carried over by a restart has a copied attempt
 * the child does not point at: its child is found from the attempt's outputs instead.
 */
export async function subworkflowChildren(q: Queryable, attempts: readonly { pk: number; stepId: string; stepType: string | null; params: unknown; outputs: unknown }[]): Promise<Map<string, ChildRef>> {
  const out = new Map<string, ChildRef>();
  const subs = attempts.filter((a) => a.stepType === 'subworkflow');
  if (subs.length === 0) return out;
  const linked = await q.query<{ attempt_pk: string | number; workflow_id: string; instance_id: string | number; status: InstanceStatus }>(
    `SELECT DISTINCT ON (parent_attempt_pk) parent_attempt_pk AS attempt_pk, workflow_id, instance_id, status
     FROM baton_workflow_instances WHERE parent_attempt_pk = ANY($1::bigint[]) ORDER BY parent_attempt_pk, run_id DESC`,
    [subs.map((a) => a.pk)],
  );
  const byPk = new Map(linked.rows.map((r) => [Number(r.attempt_pk), r]));
  for (const a of subs) {
    const r = byPk.get(Number(a.pk));
    if (r) {
      out.set(a.stepId, { workflowId: r.workflow_id, instanceId: Number(r.instance_id), status: r.status });
      continue;
    }
    const id = decodeParams(a.params).subworkflow_id?.value;
    const iid = decodeParams(a.outputs).subworkflow_instance_id?.value;
    if (typeof id !== 'string' || (typeof iid !== 'bigint' && typeof iid !== 'number')) continue;
    const latest = await q.query<{ status: InstanceStatus }>('SELECT status FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 ORDER BY run_id DESC LIMIT 1', [id, Number(iid)]);
    out.set(a.stepId, { workflowId: id, instanceId: Number(iid), status: latest.rows[0]?.status ?? null });
  }
  return out;
}
