import { migrate, PgDb, type Queryable } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../../../../test/setup/infra.js';
import { schedulerMigrations } from '../../src/migrations.js';
import type { StartResult, TimeStartRequest, WorkflowStarter } from '../../src/ports.js';

export interface TestDb {
  db: PgDb;
  database: Database;
  close(): Promise<void>;
}

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

export async function prepare(db: PgDb): Promise<void> {
  await migrate(db, [schedulerMigrations]);
  await db.exec(INSTANCES_TABLE);
}

/** A fresh PostgreSQL database (from the test run's server) with the scheduler's tables. */
export async function openTestDb(poolSize = 10): Promise<TestDb> {
  const database = await createTestDatabase();
  const db = new PgDb({ connectionString: database.url, max: poolSize, applicationName: 'scheduler-test' });
  await prepare(db);
  return {
    db,
    database,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

export interface InstanceRow {
  workflow_id: string;
  request_id: string;
  run_ts: number;
  initiator: { type: string; trigger: string; fire_time: string; catch_up?: boolean };
  dup_attempts: number;
}

export async function instances(db: Queryable, workflowId?: string): Promise<InstanceRow[]> {
  const res = await db.query<InstanceRow & { run_ts: string | number }>(
    `SELECT workflow_id, request_id, run_ts, initiator, dup_attempts FROM test_instances ${workflowId ? 'WHERE workflow_id = $1' : ''} ORDER BY workflow_id, run_ts`,
    workflowId ? [workflowId] : [],
  );
  return res.rows.map((r) => ({ ...r, run_ts: Number(r.run_ts) }));
}

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public ms: number) {}
  now = (): number => this.ms;
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
