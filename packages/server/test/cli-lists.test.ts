import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { repoRoot, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

const bin = path.join(repoRoot, 'packages/server/bin/baton.js');
const TOKEN = 'cli-lists-admin-token-0123456789';
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
let database: Database;
let server: BatonProcess;
let url: string;
let dir: { path: string; remove(): Promise<void> };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI's `main` in this process (a spawned `baton` costs seconds of start-up on a busy machine;
 * `spawned` covers the executable itself).
 */
async function baton(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(args, { stdout, stderr, env: { BATON_URL: url, BATON_TOKEN: TOKEN, ...env }, cwd: dir.path });
  return { code, stdout: out, stderr: err };
}

/** `node packages/server/bin/baton.js ...args` against the test server. */
function spawned(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir.path, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATON_URL: url, BATON_TOKEN: TOKEN, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function pushFile(name: string, body: object): Promise<void> {
  const file = path.join(dir.path, `${name}.json`);
  await writeFile(file, JSON.stringify(body));
  const r = await baton(['workflow', 'push', file]);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  dir = await tempDir('baton-cli-lists-');
  database = await createTestDatabase();
  server = spawnBaton({ DATABASE_URL: database.url, PORT: '0', BATON_TOKENS: `cli:admin:${TOKEN}`, BATON_TIME_SCALE: '0.1' });
  await waitUntilReady(server, 90_000);
  url = await server.ready;
  await pushFile('nightly', {
    properties: { owner: 'alice', tags: ['etl'] },
    workflow: {
      id: 'nightly',
      name: 'Nightly load',
      params: { day: { value: 'today', type: 'STRING' } },
      time_triggers: [{ type: 'CRON', cron: '0 3 1 1 *', timezone: 'UTC' }],
      steps: [{ step: { id: 'load', type: 'NoOp', transition: { successors: { check: 'true' } } } }, { step: { id: 'check', type: 'NoOp' } }],
    },
  });
  await pushFile('flaky', { properties: { owner: 'bob' }, workflow: { id: 'flaky', steps: [{ step: { id: 'boom', type: 'NoOp', params: { x: { expression: "1 / params.getFromStep('boom', 'zero')", type: 'LONG' }, zero: { value: 0, type: 'LONG' } } } }] } });
  for (const wf of ['nightly', 'nightly', 'flaky']) expect((await baton(['workflow', 'start', wf])).code).toBe(0);
  expect((await baton(['instance', 'status', 'nightly', '2', '--watch', '--interval', '100'])).code).toBe(0);
  expect((await baton(['instance', 'status', 'flaky', '1', '--watch', '--interval', '100'])).code).toBe(1);
}, 180_000);
afterAll(async () => {
  if (server) await stop(server);
  await database?.drop();
  await dir?.remove();
});

describe('baton workflow list / describe and baton instance list', () => {
  it('baton workflow list prints a table with ISO times, takes filters, and --json', async () => {
    const all = await baton(['workflow', 'list']);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WORKFLOW\s+ACTIVE\s+LATEST\s+OWNER\s+TRIGGERS\s+TAGS\s+LAST RUN$/);
    expect(lines[1]).toMatch(/^flaky\s+1\s+1\s+bob\s+-\s+-\s+FAILED #1 /);
    expect(lines[2]).toMatch(/^nightly\s+1\s+1\s+alice\s+time\s+etl\s+SUCCEEDED #2 /);
    expect(lines[2]).toMatch(ISO);
    expect((await baton(['workflow', 'list', '--last-status', 'failed'])).stdout).toMatch(/^WORKFLOW.*\nflaky /);
    expect((await baton(['workflow', 'list', '--trigger', 'time', '--owner', 'alice', '--tag', 'etl', '--text', 'NIGHTLY LOAD'])).stdout.trimEnd().split('\n')).toHaveLength(2);
    expect((await baton(['workflow', 'list', '--owner', 'nobody'])).stdout).toBe('no workflows\n');
    const json = await baton(['workflow', 'list', '--json', '--limit', '1']);
    const page = JSON.parse(json.stdout) as { items: Array<{ workflow_id: string; last_run: { create_time: string } }>; next_cursor: string };
    expect(page.items.map((w) => w.workflow_id)).toEqual(['flaky']);
    expect(page.items[0]!.last_run.create_time).toMatch(ISO);
    const next = await baton(['workflow', 'list', '--json', '--limit', '1', '--cursor', page.next_cursor]);
    expect((JSON.parse(next.stdout) as typeof page).items.map((w) => w.workflow_id)).toEqual(['nightly']);
  }, 120_000);

  it('baton workflow describe shows versions, params, triggers, steps and recent runs', async () => {
    const r = await baton(['workflow', 'describe', 'nightly']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nightly (Nightly load)\n  owner alice; active version 1; latest version 1\n');
    expect(r.stdout).toMatch(/versions:\n {2}VERSION\s+CREATED\n {2}1\s+\S+Z\s+active\n/);
    expect(r.stdout).toContain('params (latest version):\n  day STRING = "today"\n');
    expect(r.stdout).toContain('triggers (latest version):\n  time: 0 3 1 1 * (UTC)\n');
    expect(r.stdout).toContain('steps (latest version):\n  load [NoOp] -> check\n  check [NoOp]\n');
    expect(r.stdout).toMatch(/recent runs:\n {2}INSTANCE\s+RUN\s+VERSION\s+STATUS\s+INITIATOR\s+CREATED\s+ENDED\n {2}2\s+1\s+1\s+SUCCEEDED\s+manual\s+\S+Z\s+\S+Z\n {2}1\s+1\s+1\s+SUCCEEDED/);
    const json = JSON.parse((await baton(['workflow', 'describe', 'nightly', '--json', '--runs', '1'])).stdout) as { versions: unknown[]; recent_runs: Array<{ workflow_instance_id: number }>; latest: { workflow_version_id: number } };
    expect(json.versions).toHaveLength(1);
    expect(json.recent_runs.map((x) => x.workflow_instance_id)).toEqual([2]);
    expect(json.latest.workflow_version_id).toBe(1);
    const missing = await baton(['workflow', 'describe', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
    expect((await baton(['workflow', 'describe'])).code).toBe(2);
  }, 120_000);

  it('baton instance list filters, pages and prints JSON', async () => {
    const all = await baton(['instance', 'list']);
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WORKFLOW\s+INSTANCE\s+RUN\s+STATUS\s+INITIATOR\s+CREATED\s+ENDED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(' '))).toEqual(['flaky 1 1 FAILED', 'nightly 2 1 SUCCEEDED', 'nightly 1 1 SUCCEEDED']);
    for (const l of lines.slice(1)) expect(l).toMatch(new RegExp(`manual\\s+${ISO.source}\\s+${ISO.source}$`));

    const failed = await baton(['instance', 'list', '--status', 'FAILED', '--since', '1h', '--initiator', 'manual']);
    expect(failed.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['flaky']);
    expect((await baton(['instance', 'list', '--workflow', 'nightly', '--status', 'failed,succeeded', '--tag', 'etl'])).stdout.trimEnd().split('\n')).toHaveLength(3);
    expect((await baton(['instance', 'list', '--until', '1h'])).stdout).toBe('no instances\n');
    expect((await baton(['instance', 'list', '--initiator', 'signal'])).stdout).toBe('no instances\n');

    const first = await baton(['instance', 'list', '--limit', '2', '--token', TOKEN]);
    const more = /^more: (baton instance list --limit 2) --cursor (\S+) {2}\(or --all\)$/m.exec(first.stdout);
    expect(more, first.stdout).not.toBeNull();
    expect(first.stdout).not.toContain(TOKEN);
    const second = await baton(['instance', 'list', '--limit', '2', '--cursor', more![2]!]);
    expect(second.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual(['nightly/1']);
    const every = await baton(['instance', 'list', '--limit', '1', '--all']);
    expect(every.stdout.trimEnd().split('\n')).toHaveLength(4);
    const json = JSON.parse((await baton(['instance', 'list', '--limit', '1', '--all', '--json'])).stdout) as { items: Array<{ workflow_id: string; create_time: string }> };
    expect(json.items.map((i) => i.workflow_id)).toEqual(['flaky', 'nightly', 'nightly']);
    expect(json.items[0]!.create_time).toMatch(ISO);
  }, 120_000);

  it('exit codes: 2 for a wrong command line, 1 for a refused request, 3 when the server is unreachable', async () => {
    for (const args of [
      ['instance', 'list', '--status', 'DONE'],
      ['instance', 'list', '--limit', '0'],
      ['instance', 'list', '--since', 'yesterday'],
      ['instance', 'list', '--initiator', 'cron'],
      ['instance', 'list', 'extra'],
      ['workflow', 'list', '--trigger', 'cron'],
      ['workflow', 'list', '--last-status', 'OK'],
    ]) {
      const r = await baton(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/run "baton (instance|workflow) --help"/);
    }
    const refused = await baton(['instance', 'list', '--since', '2026-13-45']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('querystring.since');
    const badCursor = await baton(['instance', 'list', '--cursor', 'abc', '--json']);
    expect(badCursor.code).toBe(1);
    expect(JSON.parse(badCursor.stdout)).toMatchObject({ status: 400, errors: [{ field: 'querystring.cursor' }] });
    expect((await baton(['workflow', 'list'], { BATON_URL: 'http://127.0.0.1:1' })).code).toBe(3);
    const [unreachable, usage, listed] = await Promise.all([
      spawned(['instance', 'list'], { BATON_URL: 'http://127.0.0.1:1' }),
      spawned(['instance', 'list', '--status', 'DONE']),
      spawned(['instance', 'list', '--status', 'FAILED', '--json']),
    ]);
    expect(unreachable.code).toBe(3);
    expect(usage.code).toBe(2);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: Array<{ workflow_id: string }> }).items.map((i) => i.workflow_id)).toEqual(['flaky']);
    const help = await baton(['instance', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('baton instance list');
    expect((await baton(['workflow', '--help'])).stdout).toContain('--last-status');
  }, 120_000);

  it('baton instance status prints one layout, with and without --watch', async () => {
    const once = await baton(['instance', 'status', 'nightly', '1']);
    const watched = await baton(['instance', 'status', 'nightly', '1', '--watch']);
    expect(once.stdout).toBe('nightly instance 1 run 1: SUCCEEDED\n  load   SUCCEEDED\n  check  SUCCEEDED\n');
    expect(watched.stdout).toBe(once.stdout);
  }, 120_000);
});
