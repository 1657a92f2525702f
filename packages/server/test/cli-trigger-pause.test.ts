import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { repoRoot, sleep, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

/**
 * `baton workflow pause|activate`, `baton schedule list` and `baton trigger list` against two Baton
 * processes sharing one PostgreSQL: a pause made through one process holds in the other (both run
 * a scheduler and a matcher).
 */
const bin = path.join(repoRoot, 'packages/server/bin/baton.js');
const TOKEN = 'pause-cli-admin-token-0123456789';
let database: Database;
const servers: BatonProcess[] = [];
const urls: string[] = [];
let dir: { path: string; remove(): Promise<void> };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function baton(args: string[], url = urls[0]!): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: dir.path, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATON_URL: url, BATON_TOKEN: TOKEN }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function instanceCount(workflowId: string, url: string): Promise<number> {
  const res = await fetch(`${url}/api/v3/workflows/${workflowId}/instances?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { items: unknown[] }).items.length;
}

async function signalRuns(database: Database, workflowId: string): Promise<number> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: database.url });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM baton_workflow_instances WHERE workflow_id = $1 AND initiator->>'type' = 'SIGNAL'`, [workflowId]);
    return Number(r.rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function publish(url: string, day: number): Promise<void> {
  const res = await fetch(`${url}/api/v3/signals`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ticker/ready', params: { day } }) });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  dir = await tempDir('baton-pause-cli-');
  database = await createTestDatabase();
  for (let i = 0; i < 2; i++) servers.push(spawnBaton({ DATABASE_URL: database.url, PORT: '0', BATON_TOKENS: `cli:admin:${TOKEN}`, BATON_MIN_TRIGGER_INTERVAL: '1s' }));
  for (const s of servers) {
    await waitUntilReady(s, 90_000);
    urls.push(String(await s.ready));
  }
}, 180_000);
afterAll(async () => {
  await Promise.all(servers.map(stop));
  await database?.drop();
  await dir?.remove();
});

describe('baton workflow pause / activate on PostgreSQL with two processes', () => {
  it('pauses through one process, holds in both, lists it, previews and activates with catch-up', async () => {
    const file = path.join(dir.path, 'ticker.json');
    await writeFile(
      file,
      JSON.stringify({
        properties: { owner: 'tester' },
        workflow: {
          id: 'ticker',
          time_triggers: [{ type: 'CRON', cron: '*/2 * * * * *', id: 'every-2s', catch_up: 'ALL' }],
          // Maestro refuses a join key that is also a match param: this trigger matches on day only.
          signal_triggers: [{ definitions: { 'ticker/ready': { match_params: { day: { value: 1, operator: '>=' } } } } }],
          steps: [{ step: { id: 'a', type: 'NoOp' } }],
        },
      }),
    );
    expect((await baton(['workflow', 'push', file])).code).toBe(0);
    // Both processes follow the push; wait until the schedule runs.
    await expect.poll(() => instanceCount('ticker', urls[1]!), { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);

    const paused = await baton(['workflow', 'pause', 'ticker', '--reason', 'load test']);
    expect(paused).toMatchObject({ code: 0, stderr: '' });
    expect(paused.stdout).toMatch(/^paused triggers of ticker\n {2}time every-2s \[PAUSED\] \*\/2 \* \* \* \* \* UTC\n {2}signal [0-9a-f]{16} \[PAUSED\] ticker\/ready\n$/);
    const before = await instanceCount('ticker', urls[1]!);
    // A matching signal published through the other process starts nothing either.
    await publish(urls[1]!, 1);
    await sleep(5000);
    expect(await signalRuns(database, 'ticker')).toBe(0);
    expect(await instanceCount('ticker', urls[1]!)).toBe(before);
    expect(await instanceCount('ticker', urls[0]!)).toBe(before);

    const schedules = await baton(['schedule', 'list', '--workflow', 'ticker'], urls[1]);
    expect(schedules.code).toBe(0);
    expect(schedules.stdout).toMatch(/^WORKFLOW +TRIGGER +STATUS +CRON +ZONE +CATCH-UP +NEXT FIRE +LAST FIRE\nticker +every-2s +PAUSED +\*\/2 \* \* \* \* \* +UTC +ALL +due since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 +\d{4}-\d\d-\d\dT/);
    const json = JSON.parse((await baton(['schedule', 'list', '--paused', 'true', '--json'])).stdout) as { items: Array<{ workflow_id: string; paused: boolean; pause_reason: string }> };
    expect(json.items).toEqual([expect.objectContaining({ workflow_id: 'ticker', paused: true, pause_reason: 'load test' })]);
    const workflows = await baton(['workflow', 'list', '--paused', 'true']);
    expect(workflows.stdout).toMatch(/\nticker +1 +1 +tester +time,signal \(paused: time,signal\)/);
    const triggers = await baton(['trigger', 'list', '--signal', 'ticker/ready']);
    expect(triggers.stdout).toMatch(/^WORKFLOW +TRIGGER +STATUS +WAITING +SIGNALS\nticker +[0-9a-f]{16} +PAUSED +0 +ticker\/ready \[day >= 1\]\n$/);

    const dry = JSON.parse((await baton(['workflow', 'activate', 'ticker', '--kind', 'time', '--dry-run', '--json'])).stdout) as {
      dry_run: boolean;
      preview: { time_triggers: Array<{ would_start: Array<{ fire_time: string; catch_up: boolean }> }> };
    };
    expect(dry.dry_run).toBe(true);
    const wouldStart = dry.preview.time_triggers[0]!.would_start;
    expect(wouldStart.length).toBeGreaterThanOrEqual(2); // ALL: every fire time of the pause
    expect(wouldStart.every((f) => f.catch_up)).toBe(true);
    expect(await instanceCount('ticker', urls[0]!)).toBe(before);

    const act = await baton(['workflow', 'activate', 'ticker', '--kind', 'time'], urls[1]);
    expect(act.code).toBe(0);
    expect(act.stdout).toMatch(/^activated triggers of ticker\n {2}time every-2s: catch_up ALL: started (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(catch-up\)(, )?){2,}; skipped 0\n/);
    expect(await instanceCount('ticker', urls[0]!)).toBeGreaterThanOrEqual(before + wouldStart.length);
    // The signal trigger stays paused: only --kind time was activated.
    expect((await baton(['trigger', 'list', '--paused', 'true', '--json'])).stdout).toContain('"workflow_id":"ticker"');
    await publish(urls[0]!, 2);
    await sleep(1500);
    expect(await signalRuns(database, 'ticker')).toBe(0);
    // Activated through one process, a signal published through the other starts a run.
    expect((await baton(['workflow', 'activate', 'ticker', '--kind', 'signal'], urls[0])).code).toBe(0);
    await publish(urls[1]!, 3);
    await expect.poll(() => signalRuns(database, 'ticker'), { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);
    expect(await signalRuns(database, 'ticker')).toBe(1);
    expect((await baton(['workflow', 'pause', 'ticker'])).code).toBe(0);
  }, 90_000);

  it('exits 2 on a wrong command line, 1 with the problem on an unknown workflow or trigger', async () => {
    const usage = await baton(['workflow', 'pause', 'ticker', '--trigger', 'every-2s']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--trigger needs --kind time or --kind signal');
    expect((await baton(['workflow', 'pause', 'ticker', '--dry-run'])).code).toBe(2);
    expect((await baton(['schedule', 'list', '--paused', 'maybe'])).code).toBe(2);
    expect((await baton(['trigger', 'list', '--limit', '0'])).code).toBe(2);
    const missing = await baton(['workflow', 'pause', 'no-such-workflow']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 Not Found: workflow "no-such-workflow" does not exist');
    const ghost = await baton(['workflow', 'activate', 'ticker', '--kind', 'time', '--trigger', 'ghost', '--json']);
    expect(ghost.code).toBe(1);
    expect(JSON.parse(ghost.stdout)).toMatchObject({ status: 404, errors: [{ field: 'body.trigger_id' }] });
    const help = await baton(['workflow', '--help']);
    expect(help.stdout).toContain('pause ID [--kind time|signal]');
  }, 60_000);
});
