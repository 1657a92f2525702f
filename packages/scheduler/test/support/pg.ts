import { migrate, PgDb, type Queryable } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../../../../test/setup/infra.js';
import { schedulerMigrations } from '../../src/migrations.js';
import { INSTANCES_TABLE } from './table-starter.js';

export { BatchTableStarter, INSTANCES_TABLE, TableStarter } from './table-starter.js';

export interface TestDb {
  db: PgDb;
  database: Database;
  close(): Promise<void>;
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
