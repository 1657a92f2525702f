import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb, migrate, engineMigrations } from '../../packages/engine-core/src/index.js';
import type { StartWorkflowResult } from '../../packages/engine-core/src/runtime/start.js';
import { createTestDatabase, type Database } from '../setup/infra.js';
import { spawnEngine } from './support/child.js';

/**
 * Two engine processes on one PostgreSQL receive 200 start requests at the same instant (100
 * each, concurrently), carrying 50 distinct request ids: exactly 50 instances exist afterwards,
 * with gap-free instance ids, and every request got the instance of its id.
 */
describe('exactly-once starts across processes', () => {
  let database: Database;
  let db: PgDb;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new PgDb({ connectionString: database.url, max: 2 });
    await migrate(db, [engineMigrations]);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('200 concurrent requests with 50 request ids start exactly 50 instances', async () => {
    const requests = (offset: number) =>
      Array.from({ length: 100 }, (_, i) => ({ workflowId: 'crash-wf', requestId: `req-${(i * 7 + offset) % 50}`, params: { n: 1 } }));
    const goAt = Date.now() + 4000;
    const a = spawnEngine(['burst', database.url, String(goAt), JSON.stringify(requests(0))]);
    const b = spawnEngine(['burst', database.url, String(goAt), JSON.stringify(requests(3))]);
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, a.stderr()).toBe(0);
    expect(eb.code, b.stderr()).toBe(0);
    const results = [...(JSON.parse(a.stdout()) as StartWorkflowResult[]), ...(JSON.parse(b.stdout()) as StartWorkflowResult[])];
    expect(results.length).toBe(200);

    const rows = await db.query<{ instance_id: number; request_id: string }>(
      `SELECT instance_id, request_id FROM baton_workflow_instances WHERE workflow_id = 'crash-wf' ORDER BY instance_id`,
    );
    expect(rows.rows.length).toBe(50);
    expect(rows.rows.map((r) => Number(r.instance_id))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const byRequest = new Map(rows.rows.map((r) => [r.request_id, Number(r.instance_id)]));
    expect(byRequest.size).toBe(50);
    for (const r of results) expect(r.workflowInstanceId).toBe(byRequest.get(r.requestId));
    expect(results.filter((r) => !r.duplicate).length).toBe(50);
  }, 60_000);
});
