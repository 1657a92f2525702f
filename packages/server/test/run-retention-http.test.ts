import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { spawnBaton, stop, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';
import { samples } from './helpers/prometheus-text.js';

/**
 * Run retention through a Baton process on PostgreSQL with BATON_RUN_RETENTION=1d: a pass on
 * demand purges the finished run that ended (moved back) two days ago, keeps the recent one, and
 * the REST reads answer 404 naming the purge, the lineage with the tombstone, the status and the
 * metrics with the run tables.
 */
const TOKEN = 'ops:admin:run-retention-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN.split(':')[2]}`, 'content-type': 'application/json' };
const wf = { properties: { owner: 'tester' }, workflow: { id: 'rr-ok', steps: [{ step: { id: 'a', type: 'NoOp' } }] } };

let database: Database;
let server: BatonProcess;
let url: string;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  server = spawnBaton({ PORT: '0', DATABASE_URL: database.url, BATON_TOKENS: TOKEN, BATON_RUN_RETENTION: '1d' });
  await waitUntilReady(server, 90_000);
  url = String(await server.ready);
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
}, 120_000);
afterAll(async () => {
  await client?.end();
  await stop(server);
  await database?.drop();
});

async function startAndFinish(): Promise<number> {
  const r = await fetch(`${url}/api/v3/workflows/rr-ok/versions/active/actions/start`, { method: 'POST', headers: auth, body: '{}' });
  const body = (await r.json()) as { workflow_instance_id: number };
  expect(r.status, JSON.stringify(body)).toBeLessThan(300);
  const iid = body.workflow_instance_id;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await client.query<{ status: string }>(`SELECT status FROM baton_workflow_instances WHERE workflow_id = 'rr-ok' AND instance_id = $1`, [iid]);
    if (s.rows[0]?.status === 'SUCCEEDED') return iid;
    if (Date.now() > deadline) throw new Error(`run ${iid} did not succeed: ${s.rows[0]?.status}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('run retention over REST', () => {
  it('purges the expired finished run, keeps the recent one, and answers for the purged one with its tombstone', async () => {
    const push = await fetch(`${url}/api/v3/workflows`, { method: 'POST', headers: auth, body: JSON.stringify(wf) });
    expect(push.status, await push.text()).toBeLessThan(300);
    const old = await startAndFinish();
    const recent = await startAndFinish();
    // The server's clock is real: move the old run's end (and its rows' times) two days back.
    await client.query(`UPDATE baton_workflow_instances SET ended_at = now() - interval '2 days' WHERE workflow_id = 'rr-ok' AND instance_id = $1`, [old]);
    await client.query(
      `INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id) VALUES ('EMITTED', 'rr/out', 1, 'rr-ok', $1)`,
      [String(old)],
    );
    // Two purged signals' tombstones: one only the old run's lineage points at, one the recent run's too.
    await client.query(
      `INSERT INTO signal_tombstones (name, seq_id, instance_id, create_time, purged_at)
       VALUES ('rr/gone', 1, 'g1', now() - interval '3 days', now() - interval '2 days'), ('rr/kept', 1, 'k1', now() - interval '3 days', now() - interval '1 day')`,
    );
    await client.query(
      `INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id)
       VALUES ('TRIGGERED', 'rr/gone', 1, 'rr-ok', $1), ('TRIGGERED', 'rr/kept', 1, 'rr-ok', $1), ('UNBLOCKED', 'rr/kept', 1, 'rr-ok', $2)`,
      [String(old), String(recent)],
    );

    const pass = await fetch(`${url}/api/v3/admin/retention/run`, { method: 'POST', headers: { authorization: auth.authorization } });
    const passBody = (await pass.json()) as { runs: { runs: number; tombstones: number; kept: number; more: boolean } | null; run_history: unknown; tombstones: unknown };
    expect(pass.status).toBe(200);
    expect(passBody.runs).toMatchObject({ runs: 1, tombstones: 1, more: false });
    // The signal tombstone whose only run was purged goes with its edge; the recent run's stays.
    expect(passBody.tombstones).toEqual({ removed: 1, edges: 1, scanned: 2, more: false });
    const upRecent = (await (await fetch(`${url}/api/v3/workflows/rr-ok/instances/${recent}/lineage`, { headers: auth })).json()) as { nodes: { id: string; purged?: unknown }[] };
    expect(upRecent.nodes.find((n) => n.id === 'signal:rr/kept#1')?.purged).toMatchObject({ instance_id: 'k1' });
    // The run history's weeks are not expired (they end at the latest next Monday, the retention is 1 day).
    expect(passBody.run_history).toEqual({ dropped: [], skipped: [] });

    const gone = await fetch(`${url}/api/v3/workflows/rr-ok/instances/${old}/runs/latest`, { headers: auth });
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await gone.json()) as { detail: string };
    expect(problem.detail).toMatch(new RegExp(`^workflow "rr-ok" instance ${old} was purged by run retention at \\d{4}-\\d\\d-\\d\\dT.*Z \\(its run ended .*, last status SUCCEEDED\\)`));
    const rollup = await fetch(`${url}/api/v3/workflows/rr-ok/instances/${old}/rollup`, { headers: auth });
    expect(rollup.status).toBe(404);
    expect(((await rollup.json()) as { detail: string }).detail).toContain('was purged by run retention');
    const missing = await fetch(`${url}/api/v3/workflows/rr-ok/instances/999999/runs/latest`, { headers: auth });
    expect(((await missing.json()) as { detail: string }).detail).toBe('workflow "rr-ok" has no instance 999999');
    expect((await fetch(`${url}/api/v3/workflows/rr-ok/instances/${recent}/runs/latest`, { headers: auth })).status).toBe(200);

    const list = (await (await fetch(`${url}/api/v3/workflows/rr-ok/instances`, { headers: auth })).json()) as { instances?: { workflow_instance_id: number }[] };
    expect(JSON.stringify(list)).not.toContain(`"workflow_instance_id":${old},`);

    const lineage = await fetch(`${url}/api/v3/workflows/rr-ok/instances/${old}/lineage`, { headers: auth });
    expect(lineage.status).toBe(200);
    const graph = (await lineage.json()) as { nodes: { type: string; workflow_instance_id?: string; purged?: { status: string; purged_at: number; last_run_id: number } }[] };
    const node = graph.nodes.find((n) => n.type === 'workflow_instance' && String(n.workflow_instance_id) === String(old));
    expect(node?.purged).toMatchObject({ status: 'SUCCEEDED', last_run_id: 1 });
    expect(node!.purged!.purged_at).toBeGreaterThan(Date.now() - 120_000);

    const status = (await (await fetch(`${url}/api/v3/admin/retention`, { headers: auth })).json()) as {
      runs: { retention_seconds: number | null; tables: { table: string; rows: number }[]; partitions: { table: string; name: string; to: string | null; is_default: boolean }[]; oldest_retained: string | null };
      tombstones: { rows: number; oldest_purged_at: string | null };
    };
    expect(status.tombstones.rows).toBe(1);
    expect(Date.parse(status.tombstones.oldest_purged_at!)).toBeLessThan(Date.now() - 23 * 3_600_000);
    expect(status.runs.retention_seconds).toBe(86_400);
    expect(status.runs.tables.find((t) => t.table === 'baton_run_tombstones')?.rows).toBe(1);
    // The run-history partitions: the migrated table, the weeks created ahead, the DEFAULT one.
    for (const table of ['baton_instance_timeline', 'baton_step_timeline', 'baton_step_log_chunks']) {
      const names = status.runs.partitions.filter((p) => p.table === table).map((p) => p.name);
      expect(names).toContain(`${table}_p_legacy`);
      expect(names).toContain(`${table}_p_default`);
      expect(names.filter((n) => /_p\d{8}$/.test(n)).length).toBeGreaterThanOrEqual(2);
    }
    // Summed over its partitions: the kept run's timeline rows (it was not purged).
    expect(status.runs.tables.find((t) => t.table === 'baton_instance_timeline')?.rows).toBeGreaterThan(0);
    expect(Date.parse(status.runs.oldest_retained!)).toBeGreaterThan(Date.now() - 3_600_000);

    const metrics = samples(await (await fetch(`${url}/metrics`, { headers: auth })).text());
    expect(metrics.get('baton_table_rows{table="baton_run_tombstones"}')).toBe(1);
    expect(metrics.get('baton_retention_last_pass_purged_runs')).toBe(1);
    expect(metrics.get('baton_retention_last_pass_removed_tombstones')).toBe(1);
    expect(metrics.get('baton_table_rows{table="signal_tombstones"}')).toBe(1);
    expect(metrics.get('baton_signal_tombstones_oldest_purged_timestamp_seconds')).toBe(Date.parse(status.tombstones.oldest_purged_at!) / 1000);
    expect(metrics.get('baton_runs_oldest_retained_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
  });
});
