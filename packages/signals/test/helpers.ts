import { engineMigrations, migrate, PgDb, PGliteDb, type Db, type Queryable } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { freshPgliteCluster } from '../../../test/setup/pglite-template.js';
import { signalsMigrations } from '../src/migrations.js';
import type { StartRequest, StartResult, TriggerExpressions, WorkflowStarter } from '../src/ports.js';
import { stringifyJson } from '../src/json.js';
import { SignalService } from '../src/service.js';

export interface TestDb {
  db: PgDb;
  database: Database;
  close(): Promise<void>;
}

/**
 * A fresh PostgreSQL database with the engine's and the signals tables (signals reads the engine's
 * runs for lineage, as in every deployment) and the test starter's table.
 */
export async function openTestDb(poolSize = 10): Promise<TestDb> {
  const database = await createTestDatabase();
  const db = new PgDb({ connectionString: database.url, max: poolSize, applicationName: 'signals-test' });
  await migrate(db, [engineMigrations, signalsMigrations]);
  await db.exec(STARTS_TABLE);
  return {
    db,
    database,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

/** A database with the signals tables on either backend: a fresh PostgreSQL database (pool of 4) or an in-memory PGlite. */
export async function openBackend(kind: string): Promise<{ db: Db; close(): Promise<void> }> {
  if (kind === 'postgres') {
    const t = await openTestDb(4);
    return { db: t.db, close: () => t.close() };
  }
  const db = await PGliteDb.open({});
  await migrate(db, [engineMigrations, signalsMigrations]);
  await db.exec(STARTS_TABLE);
  return { db, close: () => db.close() };
}

/**
 * An in-memory PGlite with the same tables, and a service on it (not started) that starts
 * runs one by one: the embedded default has to run the same SQL.
 */
export async function openPgliteService(): Promise<{ db: PGliteDb; svc: SignalService }> {
  const db = await PGliteDb.open({ loadDataDir: await freshPgliteCluster() });
  await migrate(db, [engineMigrations, signalsMigrations]);
  await db.exec(STARTS_TABLE);
  return { db, svc: new SignalService(db, { starter: new TableStarter(false), expressions: testExpressions }) };
}

/**
 * The engine's start as far as signals relies on it: a row per run with a UNIQUE request id,
 * written in the caller's transaction, idempotent by request id.
 */
export const STARTS_TABLE = `CREATE TABLE IF NOT EXISTS test_workflow_starts (
  instance_id BIGSERIAL PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  request_id TEXT NOT NULL UNIQUE,
  params JSONB NOT NULL,
  initiator JSONB NOT NULL
)`;

export class TableStarter implements WorkflowStarter {
  constructor(private readonly batched = true) {}

  async startWorkflows(tx: Queryable, reqs: readonly StartRequest[]): Promise<StartResult[]> {
    if (!this.batched) {
      const out: StartResult[] = [];
      for (const r of reqs) out.push(await this.startWorkflow(tx, r));
      return out;
    }
    await tx.query(
      `INSERT INTO test_workflow_starts (workflow_id, request_id, params, initiator)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[]) ON CONFLICT (request_id) DO NOTHING`,
      [reqs.map((r) => r.workflowId), reqs.map((r) => r.requestId), reqs.map((r) => stringifyJson(r.params)), reqs.map((r) => stringifyJson(r.initiator))],
    );
    const res = await tx.query<{ instance_id: number; request_id: string }>('SELECT instance_id, request_id FROM test_workflow_starts WHERE request_id = ANY ($1::text[])', [
      reqs.map((r) => r.requestId),
    ]);
    const byId = new Map(res.rows.map((r) => [r.request_id, r.instance_id]));
    return reqs.map((r) => ({ workflowInstanceId: byId.get(r.requestId)!, created: true }));
  }

  async startWorkflow(tx: Queryable, req: StartRequest): Promise<StartResult> {
    const ins = await tx.query<{ instance_id: number }>(
      `INSERT INTO test_workflow_starts (workflow_id, request_id, params, initiator) VALUES ($1, $2, $3::jsonb, $4::jsonb)
       ON CONFLICT (request_id) DO NOTHING RETURNING instance_id`,
      [req.workflowId, req.requestId, stringifyJson(req.params), stringifyJson(req.initiator)],
    );
    if (ins.rows[0]) return { workflowInstanceId: ins.rows[0].instance_id, created: true };
    const old = await tx.query<{ instance_id: number }>('SELECT instance_id FROM test_workflow_starts WHERE request_id = $1', [req.requestId]);
    return { workflowInstanceId: old.rows[0]!.instance_id, created: false };
  }
}

/**
 * Trigger expressions for tests: conditions are tiny `<int> <op> <int>` comparisons (what the
 * sample uses) and dedup expressions return a fresh random value, as the sample's
 * `UUID.randomUUID()` does.
 */
export const testExpressions: TriggerExpressions = {
  condition(source) {
    const m = /^\s*(-?\d+)\s*(>=|<=|>|<|==)\s*(-?\d+)\s*$/.exec(source);
    if (!m) throw new Error(`test expressions cannot evaluate ${source}`);
    const a = Number(m[1]);
    const b = Number(m[3]);
    switch (m[2]) {
      case '>':
        return a > b;
      case '<':
        return a < b;
      case '>=':
        return a >= b;
      case '<=':
        return a <= b;
      default:
        return a === b;
    }
  },
  dedupKey() {
    return crypto.randomUUID();
  },
};

export async function countStarts(db: Db, workflowId?: string): Promise<number> {
  const res = workflowId
    ? await db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_workflow_starts WHERE workflow_id = $1', [workflowId])
    : await db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_workflow_starts');
  return res.rows[0]!.n;
}
