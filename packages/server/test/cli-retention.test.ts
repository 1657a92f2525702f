import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { repoRoot, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

/**
 * `baton admin retention status|run`, the admin routes behind them and the retention metrics,
 * against a Baton process on PostgreSQL configured with a default and a per-name retention.
 */
const bin = path.join(repoRoot, 'packages/server/bin/baton.js');
const ADMIN = 'retention-cli-admin-token-0123456789';
const READER = 'retention-cli-reader-token-0123456789';
let database: Database;
let server: BatonProcess;
let url: string;
let dir: { path: string; remove(): Promise<void> };

function baton(args: string[], token = ADMIN): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir.path, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATON_URL: url, BATON_TOKEN: token }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dir = await tempDir('baton-retention-cli-');
  database = await createTestDatabase();
  server = spawnBaton({
    DATABASE_URL: database.url,
    PORT: '0',
    BATON_TOKENS: `ops:admin:${ADMIN},dash:reader:${READER}`,
    BATON_SIGNAL_RETENTION: '7d',
    BATON_SIGNAL_RETENTION_BY_NAME: '{"audit/log": "forever", "orders/created": "36h"}',
  });
  await waitUntilReady(server, 90_000);
  url = String(await server.ready);
}, 120_000);
afterAll(async () => {
  await stop(server);
  await database?.drop();
  await dir?.remove();
});

describe('baton admin retention', () => {
  it('shows the policy, partitions and sizes, runs a pass, and reports metrics', async () => {
    const res = await fetch(`${url}/api/v3/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ signals: [{ name: 'orders/created', params: { id: '1' } }, { name: 'audit/log', params: { id: '1' } }] }),
    });
    expect(res.status).toBe(200);

    const status = await baton(['admin', 'retention', 'status']);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/^retention: default 7d; audit\/log forever, orders\/created 36h\noldest retained signal: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n/);
    expect(status.stdout).toMatch(/\nsignal_instances_p_forever +forever +- +1 +/);
    expect(status.stdout).toMatch(/\nsignal_instances_p_default +DEFAULT +- +0 +/);
    expect(status.stdout).toMatch(/\nsignal_instances +2 +\d/);
    expect(status.stdout).toMatch(/\nsignal tombstones: 0, oldest purged -\n/);

    const json = JSON.parse((await baton(['admin', 'retention', 'status', '--json'])).stdout) as {
      policy: { default_seconds: number; names: Record<string, number | null> };
      partitions: { name: string; to: string | null; rows: number }[];
    };
    expect(json.policy).toEqual({ default_seconds: 7 * 86_400, names: { 'audit/log': null, 'orders/created': 36 * 3600 } });
    // Day partitions exist at least as far ahead as the longest finite retention.
    const ends = json.partitions.filter((p) => p.to !== null).map((p) => Date.parse(p.to!));
    expect(Math.max(...ends)).toBeGreaterThan(Date.now() + 7 * 86_400_000);

    const run = await baton(['admin', 'retention', 'run', '--json']);
    expect(run.code).toBe(0);
    const pass = JSON.parse(run.stdout) as { at: string; created: string[]; dropped: unknown[]; skipped: string[]; duration_ms: number };
    expect(pass).toMatchObject({ created: [], dropped: [], skipped: [] });
    expect(new Date(pass.at).toISOString()).toBe(pass.at);
    expect((await baton(['admin', 'retention', 'run'])).stdout).toMatch(/^pass at \d{4}-\d\d-\d\dT.*Z: \d+ ms, 0 partitions created, 0 dropped \(0 rows\)\n$/);

    // Admin only: a reader token is refused with the role it needs.
    const refused = await baton(['admin', 'retention', 'status'], READER);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('needs admin');
    expect((await baton(['admin', 'retention', 'purge'])).code).toBe(2);

    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(metrics).toMatch(/\nbaton_table_rows\{table="signal_instances"\} 2\n/);
    expect(metrics).toMatch(/\nbaton_table_bytes\{table="signal_instance_keys"\} [1-9]\d*\n/);
    expect(metrics).toMatch(/\nbaton_signals_oldest_retained_timestamp_seconds \d+(\.\d+)?\n/);
    expect(metrics).toMatch(/\nbaton_retention_last_pass_timestamp_seconds \d+/);
  }, 90_000);
});
