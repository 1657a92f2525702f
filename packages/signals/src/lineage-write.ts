import type { Queryable } from '@baton/engine-core';

export type LineageKind = 'TRIGGERED' | 'UNBLOCKED' | 'EMITTED';

/**
 * One edge. TRIGGERED: signal → workflow instance; UNBLOCKED: signal → step attempt; EMITTED:
 * step attempt → signal. The signal end and the workflow end are stored in the same columns
 * whatever the direction; `kind` gives the direction.
 */
export interface LineageEdge {
  kind: LineageKind;
  signalName: string;
  seqId: number | bigint;
  workflowId: string;
  workflowInstanceId: string | number | bigint;
  stepId?: string;
  attempt?: number;
}

/** Writes edges in the caller's transaction (the one that made the event); re-writing is a no-op. */
export async function writeLineage(tx: Queryable, edges: readonly LineageEdge[]): Promise<void> {
  if (edges.length === 0) return;
  await tx.query(
    `INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id, step_id, attempt)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[])
     ON CONFLICT DO NOTHING`,
    [
      edges.map((e) => e.kind),
      edges.map((e) => e.signalName),
      edges.map((e) => e.seqId.toString()),
      edges.map((e) => e.workflowId),
      edges.map((e) => e.workflowInstanceId.toString()),
      edges.map((e) => e.stepId ?? null),
      edges.map((e) => e.attempt ?? null),
    ],
  );
}
