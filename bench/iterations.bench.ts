/**
 * Iteration list benchmark: `GET …/runs/latest/steps/fan/iterations` of one foreach with
 * BENCH_ITERATIONS iterations (default 10,000), on the real service over PGlite (a temporary
 * folder), REPEAT times each (default 30): the first page, a page deep in the loop (`after` at
 * nine tenths), and the failed ones only (`status=FAILED`, one in a hundred). 50 a page. Target:
 * median < 100 ms for each. Prints a table and, as its last line, one JSON object.
 *
 * Rows are inserted in bulk as the engine writes them (a loop attempt, its loop state and one
 * ended child instance per iteration): running 10,000 iterations through the engine would take
 * the benchmark's budget.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../packages/server/src/config.js';
import { createLogger } from '../packages/server/src/logger.js';
import { startServer } from '../packages/server/src/server.js';
import { median } from './support.js';

const N = Number(process.env.BENCH_ITERATIONS ?? 10_000);
const REPEAT = Number(process.env.BENCH_ITERATIONS_REPEAT ?? 30);
const TARGET_MS = 100;

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'baton-iterations-bench-'));
  const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', BATON_DATA_DIR: dataDir }), { logger: createLogger('warn'), env: {} });
  try {
    await server.servicesStarted;
    const res = await fetch(`${server.url}/api/v3/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        properties: { owner: 'bench' },
        workflow: {
          id: 'bench-loop',
          steps: [{ foreach: { id: 'fan', params: { loop_params: { type: 'MAP', value: { n: { value: [1], type: 'LONG_ARRAY' } } } }, steps: [{ step: { id: 'work', type: 'NoOp' } }] } }],
        },
      }),
    });
    if (!res.ok) throw new Error(`push: HTTP ${res.status} ${await res.text()}`);
    const seedStart = Date.now();
    const parent = await server.db.query<{ id: number }>(
      `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, initiator, started_at, ended_at)
       VALUES ('bench-loop', 1, 1, 1, 'FAILED', '{"type":"MANUAL"}'::jsonb, now(), now()) RETURNING id`,
    );
    const attempt = await server.db.query<{ id: number }>(
      `INSERT INTO baton_step_attempts (instance_pk, step_id, attempt_id, status, step_type, started_at, ended_at)
       VALUES ($1, 'fan', 1, 'USER_FAILED', 'foreach', now(), now()) RETURNING id`,
      [parent.rows[0]!.id],
    );
    const apk = attempt.rows[0]!.id;
    await server.db.query(`INSERT INTO baton_loop_state (attempt_pk, total, launched, succeeded, failed) VALUES ($1, $2, $2, $3, $4)`, [apk, N, N - Math.floor(N / 100), Math.floor(N / 100)]);
    await server.db.query(
      `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, initiator, params, started_at, ended_at, parent_attempt_pk, iteration)
       SELECT 'bench-loop#fan', 1, 1000 + g, 1, CASE WHEN g % 100 = 7 THEN 'FAILED' ELSE 'SUCCEEDED' END, '{"type":"FOREACH"}'::jsonb,
              jsonb_build_object('loop_params', jsonb_build_object('type', 'MAP', 'value', jsonb_build_object('n', g)), 'loop_index', jsonb_build_object('type', 'LONG', 'value', g::text)),
              now(), now(), $1, g
         FROM generate_series(0, $2::bigint - 1) g`,
      [apk, N],
    );
    await server.db.query('ANALYZE');
    const seedMs = Date.now() - seedStart;

    const base = `${server.url}/api/v3/workflows/bench-loop/instances/1/runs/latest/steps/fan/iterations`;
    const cases = [
      { what: 'first page', url: `${base}?limit=50`, expect: 50 },
      { what: 'page at nine tenths', url: `${base}?limit=50&after=${Math.floor(N * 0.9)}`, expect: 50 },
      { what: 'failed only (status=FAILED)', url: `${base}?limit=50&status=FAILED`, expect: Math.min(50, Math.floor(N / 100)) },
    ];
    const rows: { what: string; median: number }[] = [];
    for (const c of cases) {
      const times: number[] = [];
      for (let i = 0; i < REPEAT + 3; i++) {
        const t0 = performance.now();
        const r = await fetch(c.url);
        const body = (await r.json()) as { items: unknown[] };
        const ms = performance.now() - t0;
        if (!r.ok || body.items.length !== c.expect) throw new Error(`${c.what}: HTTP ${r.status}, ${body.items?.length} items (expected ${c.expect})`);
        if (i >= 3) times.push(ms);
      }
      rows.push({ what: c.what, median: Math.round(median(times) * 10) / 10 });
    }
    console.log(`iterations: ${N} (seeded in ${seedMs} ms), ${REPEAT} calls each; cpus ${cpus().length}, load average ${loadavg()[0]!.toFixed(1)}`);
    for (const r of rows) console.log(`${r.what.padEnd(30)}${String(r.median).padStart(9)} ms median`);
    const ok = rows.every((r) => r.median < TARGET_MS);
    console.log(ok ? `target met: every median < ${TARGET_MS} ms` : `TARGET MISSED: a median >= ${TARGET_MS} ms`);
    console.log(JSON.stringify({ bench: 'iterations', iterations: N, repeat: REPEAT, medians_ms: Object.fromEntries(rows.map((r) => [r.what, r.median])), target_ms: TARGET_MS, ok }));
    if (!ok) process.exitCode = 1;
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
