/**
 * A long queue must not make each claim or dispatch slower (issue 16): on PostgreSQL, the claim
 * reads jobs in due order from an index and stops after the rows it takes, and the dispatch reads
 * only the head of a workflow's queued instances. Plans are checked with EXPLAIN over tables large
 * enough that a whole-table read and sort would be the planner's choice without the index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_SQL, Queue } from '../../src/queue/queue.js';
import { openInstancesSql, QUEUED } from '../../src/runtime/dispatch.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';

const KINDS = ['engine.advance', 'engine.step', 'engine.dispatch'];

describe('a long queue on postgres', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb('postgres');
    await t.db.query(
      `INSERT INTO baton_jobs (kind, payload, job_key, run_at)
       SELECT ($1::text[])[1 + g % 3], '{}', 'k' || g, now() - make_interval(secs => (30000 - g)::double precision) FROM generate_series(1, 30000) AS g`,
      [KINDS],
    );
    // A backlog being drained: the oldest two thirds already ran, a few run, the rest wait.
    await t.db.query(
      `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id)
       SELECT 'wf-' || (g % 3), 1, g, 1, CASE WHEN g <= 20000 THEN 'SUCCEEDED' WHEN g % 10 = 0 THEN 'IN_PROGRESS' ELSE 'CREATED' END, 'r' || g
       FROM generate_series(1, 30000) AS g`,
    );
    await t.db.exec('ANALYZE baton_jobs; ANALYZE baton_workflow_instances');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const plan = async (sql: string, params: unknown[]) => (await t.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');

  it('claims from the due-order index without sorting the queue', async () => {
    const p = await plan(CLAIM_SQL, ['w', 30, KINDS, 32]);
    expect(p).toContain('baton_jobs_due');
    expect(p).not.toMatch(/Sort|Seq Scan on baton_jobs/);
  });

  it('claims the oldest due jobs across kinds, each once', async () => {
    const queue = new Queue(t.db);
    const [a, b] = await Promise.all([queue.claim('a', KINDS, 50, 30_000), queue.claim('b', KINDS, 50, 30_000)]);
    const ids = [...a, ...b].map((j) => j.id).sort((x, y) => x - y);
    expect(new Set(ids).size).toBe(100);
    const oldest = await t.db.query<{ id: string }>(`SELECT id FROM baton_jobs ORDER BY run_at, id LIMIT 100`);
    expect(ids).toEqual(oldest.rows.map((r) => Number(r.id)).sort((x, y) => x - y));
  });

  it("reads the head of a workflow's queued instances from an index, in order", async () => {
    const p = await plan(openInstancesSql(QUEUED), ['wf-1', 20]);
    expect(p).toContain('baton_instances_queued');
    expect(p).not.toMatch(/Seq Scan|Sort/);
    const head = await t.db.query<{ instance_id: string }>(openInstancesSql(QUEUED), ['wf-1', 5]);
    expect(head.rows.map((r) => Number(r.instance_id))).toEqual([20002, 20005, 20008, 20011, 20014]);
  });
});
