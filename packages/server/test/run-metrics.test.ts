import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { spawnBaton, stop, waitUntilReady, sleep, type BatonProcess } from './helpers/baton-process.js';
import { samples } from './helpers/prometheus-text.js';

const TOKEN = 'ops:admin:run-metrics-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN.split(':')[2]}`, 'content-type': 'application/json' };

const ok = { properties: { owner: 'tester' }, workflow: { id: 'rm-ok', steps: [{ step: { id: 'a', type: 'NoOp', transition: { successors: { b: 'true' } } } }, { step: { id: 'b', type: 'NoOp' } }] } };
// Its workflow param fails its validator: the run begins and fails at once, without a step.
const bad = { properties: { owner: 'tester' }, workflow: { id: 'rm-bad', params: { n: { expression: '1 - 2', type: 'LONG', validator: '@Positive' } }, steps: [{ step: { id: 's', type: 'NoOp' } }] } };

/** Sums one series over the processes' /metrics pages (absent counts as 0). */
function total(pages: Array<Map<string, number>>, series: string): number {
  return pages.reduce((n, p) => n + (p.get(series) ?? 0), 0);
}

describe('run and step metrics with two processes on one PostgreSQL', () => {
  let database: Database | undefined;
  const procs: BatonProcess[] = [];

  afterAll(async () => {
    await Promise.all(procs.map(stop));
    await database?.drop();
  });

  it('count each run start and end and each step once, in whichever process recorded it', async () => {
    database = await createTestDatabase();
    for (let i = 0; i < 2; i++) procs.push(spawnBaton({ PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: database.url, BATON_TOKENS: TOKEN }));
    await Promise.all(procs.map((p) => waitUntilReady(p)));
    const urls = await Promise.all(procs.map((p) => p.ready));

    for (const wf of [ok, bad]) {
      const r = await fetch(`${urls[0]}/api/v3/workflows`, { method: 'POST', headers: auth, body: JSON.stringify(wf) });
      expect(r.status, await r.text()).toBeLessThan(300);
    }
    // Starts alternate between the processes; either engine may then run any of the jobs.
    const starts: Array<[string, number]> = [['rm-ok', 8], ['rm-bad', 3]];
    let k = 0;
    for (const [id, n] of starts) {
      for (let i = 0; i < n; i++) {
        const r = await fetch(`${urls[k++ % 2]}/api/v3/workflows/${id}/versions/active/actions/start`, { method: 'POST', headers: auth, body: '{}' });
        expect(r.status, await r.text()).toBeLessThan(300);
      }
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE status IN ('SUCCEEDED', 'FAILED')`);
        if (rows[0]!.n === 11) break;
        if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of 11 runs ended`);
        await sleep(100);
      }
    } finally {
      await client.end();
    }
    // A run's end is counted once its transaction committed, a moment after another connection can
    // see it: read the pages until every end and step is counted (or 10 s pass), then check them all.
    const read = () => Promise.all(urls.map(async (u) => samples(await (await fetch(`${u}/metrics`, { headers: auth })).text())));
    let pages = await read();
    for (const until = Date.now() + 10_000; Date.now() < until; pages = await read()) {
      const ended = total(pages, 'baton_runs_ended_total{workflow="rm-ok",status="SUCCEEDED"}') + total(pages, 'baton_runs_ended_total{workflow="rm-bad",status="FAILED"}');
      if (ended >= 11 && total(pages, 'baton_step_duration_seconds_count{step_type="NoOp",status="SUCCEEDED"}') >= 16) break;
      await sleep(100);
    }
    expect(total(pages, 'baton_runs_started_total{workflow="rm-ok"}')).toBe(8);
    expect(total(pages, 'baton_runs_ended_total{workflow="rm-ok",status="SUCCEEDED"}')).toBe(8);
    expect(total(pages, 'baton_runs_started_total{workflow="rm-bad"}')).toBe(3);
    expect(total(pages, 'baton_runs_ended_total{workflow="rm-bad",status="FAILED"}')).toBe(3);
    expect(total(pages, 'baton_runs_ended_total{workflow="rm-ok",status="FAILED"}')).toBe(0);
    expect(total(pages, 'baton_step_duration_seconds_count{step_type="NoOp",status="SUCCEEDED"}')).toBe(16);
    expect(total(pages, 'baton_step_duration_seconds_sum{step_type="NoOp",status="SUCCEEDED"}')).toBeGreaterThan(0);
    expect(total(pages, 'baton_step_duration_seconds_bucket{le="60",step_type="NoOp",status="SUCCEEDED"}')).toBe(16);
  }, 240_000);
});
