import type { Queryable } from '../db/db.js';

export interface InstanceKey {
  workflowId: string;
  instanceId: string | number | bigint;
}

/**
 * What started each instance (the `initiator` of its first run: a restart keeps the instance's
 * origin), keyed `<workflow id>/<instance id>`. Unknown instances are left out. One query for the
 * whole batch, so lineage views ask once however many runs they show.
 */
export async function instanceInitiators(q: Queryable, keys: readonly InstanceKey[]): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  if (keys.length === 0) return out;
  const res = await q.query<{ workflow_id: string; instance_id: string | number; initiator: unknown }>(
    `SELECT DISTINCT ON (i.workflow_id, i.instance_id) i.workflow_id, i.instance_id, i.initiator
       FROM baton_workflow_instances i JOIN unnest($1::text[], $2::bigint[]) AS k(w, n) ON i.workflow_id = k.w AND i.instance_id = k.n
      ORDER BY i.workflow_id, i.instance_id, i.run_id`,
    [keys.map((k) => k.workflowId), keys.map((k) => k.instanceId.toString())],
  );
  for (const r of res.rows) out.set(`${r.workflow_id}/${r.instance_id}`, typeof r.initiator === 'string' ? JSON.parse(r.initiator) : r.initiator);
  return out;
}
