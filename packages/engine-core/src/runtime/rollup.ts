import type { Queryable } from '../db/db.js';
import type { StepStatus } from './status.js';

export interface Rollup {
  workflowId: string;
  instanceId: number;
  runId: number;
  /** Leaf steps (typed steps, in this run and in every loop iteration and subworkflow run below it) by status. */
  leaves: Partial<Record<StepStatus, number>>;
  /** Child runs below this one (loop iterations, subworkflow runs) by instance status. */
  children: Partial<Record<string, number>>;
  /** Loop and subworkflow steps at any depth, by status. */
  composites: Partial<Record<StepStatus, number>>;
}

/**
 * Counts by status across an instance run and everything it started, however deep: each step
 * counted once by its latest attempt. Undefined when the run does not exist.
 */
export async function getRollup(q: Queryable, workflowId: string, instanceId: number, runId?: number): Promise<Rollup | undefined> {
  const root = (
    await q.query<{ id: number; run_id: number }>(
      `SELECT id, run_id FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 ${runId === undefined ? '' : 'AND run_id = $3'}
       ORDER BY run_id DESC LIMIT 1`,
      runId === undefined ? [workflowId, instanceId] : [workflowId, instanceId, runId],
    )
  ).rows[0];
  if (!root) return undefined;
  const res = await q.query<{ kind: string; status: string; n: number }>(
    `WITH RECURSIVE tree AS (
       SELECT id, status, 0 AS depth FROM baton_workflow_instances WHERE id = $1
       UNION ALL
       SELECT c.id, c.status, tree.depth + 1 FROM tree
       JOIN baton_step_attempts a ON a.instance_pk = tree.id
       JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
       WHERE tree.depth < 100
     ), latest AS (
       SELECT DISTINCT ON (a.instance_pk, a.step_id) a.status, a.step_type
       FROM baton_step_attempts a JOIN tree ON tree.id = a.instance_pk
       ORDER BY a.instance_pk, a.step_id, a.attempt_id DESC
     )
     SELECT CASE WHEN step_type IN ('foreach', 'while', 'subworkflow') THEN 'composite' ELSE 'leaf' END AS kind, status, count(*)::int AS n
       FROM latest GROUP BY 1, 2
     UNION ALL
     SELECT 'child', status, count(*)::int FROM tree WHERE depth > 0 GROUP BY status`,
    [root.id],
  );
  const out: Rollup = { workflowId, instanceId, runId: root.run_id, leaves: {}, children: {}, composites: {} };
  for (const r of res.rows) {
    const bucket = r.kind === 'leaf' ? out.leaves : r.kind === 'composite' ? out.composites : out.children;
    (bucket as Record<string, number>)[r.status] = Number(r.n);
  }
  return out;
}
