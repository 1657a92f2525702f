import type { Queryable } from '@baton/engine-core';
import type { StartResult, TimeStartRequest, WorkflowStarter } from '../../src/ports.js';

/**
 * The engine's start as far as the scheduler relies on it: one row per run with a UNIQUE request
 * id, written in the caller's transaction. `dup_attempts` counts starts that hit an existing
 * request id and still committed, so tests can tell "the key saved us" from "never retried".
 */
export const INSTANCES_TABLE = `CREATE TABLE IF NOT EXISTS test_instances (
  instance_id BIGSERIAL PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  request_id TEXT NOT NULL UNIQUE,
  run_ts BIGINT NOT NULL,
  initiator JSONB NOT NULL,
  dup_attempts INTEGER NOT NULL DEFAULT 0,
  created_ms BIGINT NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint
)`;

export class TableStarter implements WorkflowStarter {
  calls = 0;
  constructor(private readonly delayMs = 0) {}

  async startWorkflow(tx: Queryable, req: TimeStartRequest): Promise<StartResult> {
    this.calls++;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const ins = await tx.query<{ instance_id: number }>(
      `INSERT INTO test_instances (workflow_id, version, request_id, run_ts, initiator) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (request_id) DO NOTHING RETURNING instance_id`,
      [req.workflowId, req.version, req.requestId, req.params.RUN_TS, JSON.stringify(req.initiator)],
    );
    if (ins.rows[0]) return { workflowInstanceId: ins.rows[0].instance_id, created: true };
    const old = await tx.query<{ instance_id: number }>(
      'UPDATE test_instances SET dup_attempts = dup_attempts + 1 WHERE request_id = $1 RETURNING instance_id',
      [req.requestId],
    );
    return { workflowInstanceId: old.rows[0]!.instance_id, created: false };
  }
}


/** The same start, many rows per statement: exercises the scheduler's batch path. */
export class BatchTableStarter extends TableStarter {
  batches = 0;

  async startWorkflows(tx: Queryable, reqs: readonly TimeStartRequest[]): Promise<StartResult[]> {
    this.batches++;
    const res = await tx.query<{ instance_id: number; created: boolean }>(
      `INSERT INTO test_instances (workflow_id, version, request_id, run_ts, initiator)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::jsonb[])
       ON CONFLICT (request_id) DO UPDATE SET dup_attempts = test_instances.dup_attempts + 1
       RETURNING instance_id, (xmax = 0) AS created`,
      [reqs.map((r) => r.workflowId), reqs.map((r) => r.version), reqs.map((r) => r.requestId), reqs.map((r) => r.params.RUN_TS), reqs.map((r) => JSON.stringify(r.initiator))],
    );
    return res.rows.map((r) => ({ workflowInstanceId: r.instance_id, created: r.created }));
  }
}
