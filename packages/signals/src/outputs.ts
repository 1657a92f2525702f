import type { Queryable } from '@baton/engine-core';
import { attemptRef } from './dependencies.js';
import { writeLineage } from './lineage-write.js';
import type { PublishResult } from './model.js';
import type { StepAttemptRef } from './ports.js';
import { publishInTx } from './publish.js';
import { normalizeBatch } from './validate.js';

/** An evaluated step signal output (the engine evaluated the param definitions). */
export interface StepOutput {
  name: string;
  params: Record<string, unknown>;
  payload?: unknown;
}

/**
 * Publishes a step attempt's signal outputs in the caller's transaction (the one that records the
 * step's success). The request id of each output is derived from the attempt and the output's
 * index, so processing the completion twice returns the first instances as duplicates and
 * stores nothing new. Records EMITTED lineage (step attempt → signal instance).
 */
export async function emitOutputs(tx: Queryable, step: StepAttemptRef, outputs: readonly StepOutput[]): Promise<PublishResult[]> {
  if (outputs.length === 0) return [];
  const ref = attemptRef(step);
  const signals = normalizeBatch(
    outputs.map((o, i) => ({ name: o.name, params: o.params, payload: o.payload ?? null, request_id: `step-output:${ref}:${i}` })),
    'signal_outputs',
  );
  const results = await publishInTx(tx, signals, {
    type: 'STEP_OUTPUT',
    workflow_id: step.workflowId,
    workflow_instance_id: step.workflowInstanceId.toString(),
    step_id: step.stepId,
    step_attempt_id: step.attempt,
  });
  await tx.query(
    `INSERT INTO signal_step_outputs (attempt_ref, output_index, signal_name, seq_id)
     SELECT $1, i, n, s FROM unnest($2::int[], $3::text[], $4::bigint[]) AS u(i, n, s) ON CONFLICT DO NOTHING`,
    [ref, results.map((_, i) => i), results.map((r) => r.name), results.map((r) => r.seq_id.toString())],
  );
  await writeLineage(
    tx,
    results.map((r) => ({ kind: 'EMITTED' as const, signalName: r.name, seqId: r.seq_id, workflowId: step.workflowId, workflowInstanceId: step.workflowInstanceId, stepId: step.stepId, attempt: step.attempt })),
  );
  return results;
}
