import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../setup/infra.js';
import { spawnBaton, stop, waitUntilReady, type BatonProcess } from '../../packages/server/test/helpers/baton-process.js';

/**
 * Exactly-once starts over REST with two Baton processes on one PostgreSQL database: 200
 * concurrent start requests carrying 50 distinct request ids, spread over both processes, make
 * exactly 50 instances, and every request for an id answers with that id's one instance.
 */
const WF = 'rest-exactly-once';
let database: Database;
let db: PgDb;
const procs: BatonProcess[] = [];
const TOKEN = 'exactly-once-admin-token-0123456789';
const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
const urls: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PgDb({ connectionString: database.url, max: 2 });
  // One after the other: the second finds every migration applied.
  for (let i = 0; i < 2; i++) {
    const p = spawnBaton({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'info', BATON_TOKENS: `tester:admin:${TOKEN}` });
    procs.push(p);
    await waitUntilReady(p, 90_000);
    urls.push(await p.ready);
  }
}, 200_000);
afterAll(async () => {
  await Promise.all(procs.map(stop));
  await db?.close();
  await database?.drop();
});

describe('REST starts with request ids across two processes', () => {
  it('200 concurrent requests with 50 distinct request ids make exactly 50 instances', async () => {
    const push = await fetch(`${urls[0]}/api/v3/workflows`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ properties: { owner: 'tester' }, workflow: { id: WF, steps: [{ step: { id: 'only', type: 'NoOp', transition: { successors: {} } } }] } }),
    });
    expect(push.status).toBe(200);

    const requests = Array.from({ length: 200 }, (_, i) => ({ url: urls[i % 2]!, requestId: `req-${i % 50}` }));
    const answers = await Promise.all(
      requests.map(async (r) => {
        const res = await fetch(`${r.url}/api/v3/workflows/${WF}/versions/active/actions/start`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ request_id: r.requestId }),
        });
        return { requestId: r.requestId, status: res.status, body: (await res.json()) as { workflow_instance_id: number; duplicate: boolean } };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    const byRequest = new Map<string, Set<number>>();
    for (const a of answers) byRequest.set(a.requestId, (byRequest.get(a.requestId) ?? new Set()).add(a.body.workflow_instance_id));
    expect(byRequest.size).toBe(50);
    for (const ids of byRequest.values()) expect(ids.size).toBe(1);
    expect(new Set(answers.map((a) => a.body.workflow_instance_id)).size).toBe(50);
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(50);

    const rows = await db.query<{ n: string | number; ids: string }>(
      `SELECT count(*) AS n, count(DISTINCT request_id) AS ids FROM baton_workflow_instances WHERE workflow_id = $1`,
      [WF],
    );
    expect(Number(rows.rows[0]!.n)).toBe(50);
    expect(Number(rows.rows[0]!.ids)).toBe(50);
    const listed = await fetch(`${urls[1]}/api/v3/workflows/${WF}/instances?limit=1000`, { headers });
    const items = ((await listed.json()) as { items: Array<{ workflow_instance_id: number }> }).items;
    expect(items.map((i) => i.workflow_instance_id).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  }, 120_000);
});
