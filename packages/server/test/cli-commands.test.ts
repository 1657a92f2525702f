import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { repoRoot, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

const bin = path.join(repoRoot, 'packages/server/bin/baton.js');
const samples = path.resolve(repoRoot, '../shared/maestro-samples');
const TOKEN = 'cli-test-admin-token-0123456789';
let database: Database;
let server: BatonProcess;
let url: string;
let dir: { path: string; remove(): Promise<void> };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node packages/server/bin/baton.js ...args` against the test server (BATON_URL/BATON_TOKEN). */
function baton(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir.path, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATON_URL: url, BATON_TOKEN: TOKEN, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dir = await tempDir('baton-cli-test-');
  database = await createTestDatabase();
  server = spawnBaton({ DATABASE_URL: database.url, PORT: '0', BATON_TOKENS: `cli:admin:${TOKEN}`, BATON_TIME_SCALE: '0.1' });
  await waitUntilReady(server, 90_000);
  url = await server.ready;
}, 120_000);
afterAll(async () => {
  if (server) await stop(server);
  await database?.drop();
  await dir?.remove();
});

describe('baton CLI over REST', () => {
  it('has complete help for every command', async () => {
    const [all, ...each] = (await Promise.all([['--help'], ['workflow', '--help'], ['instance', '--help'], ['signal', '--help'], ['lineage', '--help'], ['schedule', '--help']].map((a) => baton(a)))) as [Result, ...Result[]];
    expect(all.code).toBe(0);
    for (const name of ['workflow', 'instance', 'signal', 'lineage', 'schedule', 'sel']) expect(all.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    for (const r of each) expect(r.code).toBe(0);
    for (const r of each.slice(0, 4)) expect(r.stdout).toContain('--url');
    expect(each[4]!.stdout).toContain('--timezone');
    expect(each[0]!.stdout).toContain('push FILE');
    expect(each[1]!.stdout).toContain('--watch');
  }, 60_000);

  it('pushes, validates, starts and watches a workflow to completion', async () => {
    const push = await baton(['workflow', 'push', path.join(samples, 'sample-dag-test-1.json')]);
    expect(push).toMatchObject({ code: 0, stdout: 'created sample-dag-test-1 version 1; active version 1\n' });
    const yaml = await baton(['workflow', 'push', path.join(samples, 'yaml/sample-http-wf.yaml'), '--json']);
    expect(yaml.code).toBe(0);
    expect(JSON.parse(yaml.stdout)).toMatchObject({ workflow_id: 'sample-http-wf', workflow_version_id: 1 });

    const bad = path.join(dir.path, 'bad.json');
    await writeFile(bad, JSON.stringify({ workflow: { id: 'bad', steps: [{ step: { id: 'a', type: 'NoOp', transition: { successors: { ghost: 'true' } } } }] } }));
    const invalid = await baton(['workflow', 'validate', bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('workflow.steps[0].transition.successors.ghost: unknown step id');
    const rejected = await baton(['workflow', 'push', bad]);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('400');

    const start = await baton(['workflow', 'start', 'sample-dag-test-1', '--request-id', 'cli-1', '--param', 'foo=given']);
    expect(start).toMatchObject({ code: 0, stdout: 'started sample-dag-test-1 instance 1 (version 1, run 1): CREATED\n' });
    const again = await baton(['workflow', 'start', 'sample-dag-test-1', '--request-id', 'cli-1', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ workflow_instance_id: 1, duplicate: true });

    const watched = await baton(['instance', 'status', 'sample-dag-test-1', '1', '--watch', '--interval', '100']);
    expect(watched.code).toBe(0);
    // Piped, --watch prints the layout of `instance status` again after each change; the last one shows the end.
    expect(watched.stdout).toMatch(/^sample-dag-test-1 instance 1 run 1: SUCCEEDED\n( {2}job\.\d\s+SUCCEEDED\n){6}$/m);

    const shown = await baton(['workflow', 'show', 'sample-dag-test-1']);
    expect(shown.stdout).toContain('job.1 [NoOp] -> job.2, job.5');
  }, 120_000);

  it('publishes, lists and shows signals with exact integers, and shows lineage', async () => {
    expect((await baton(['workflow', 'push', path.join(samples, 'sample-signal-trigger-wf.json')])).code).toBe(0);
    const big = await baton(['signal', 'publish', 'cli/big', 'n=9223372036854775807', 's=hello', '--payload', '{"rows": 12345678901234567890}', '--json']);
    expect(big.code).toBe(0);
    expect(JSON.parse(big.stdout)).toMatchObject({ name: 'cli/big', seq_id: 1, duplicate: false });
    expect((await baton(['signal', 'publish', 'cli/big', 'n=9223372036854775807', 's=hello'])).stdout).toBe(`duplicate of cli/big#1 (instance ${JSON.parse(big.stdout).instance_id})\n`);
    const shown = await baton(['signal', 'show', 'cli/big', 'latest', '--json']);
    expect(shown.stdout).toContain('"n":9223372036854775807');
    expect(shown.stdout).toContain('12345678901234567890');
    const listed = await baton(['signal', 'list', 'cli/big']);
    expect(listed.stdout).toMatch(/^cli\/big#1 \S+ n=9223372036854775807 s="hello"$/m);

    await baton(['signal', 'publish', 'signal_a', 'foo=bat', 'watermark=123456', 'updated_by=tester']);
    await baton(['signal', 'publish', 'signal_b', 'bar=baz', 'watermark=123456', 'posted_by=tester']);
    let graph: { edges: Array<{ from: string; kind: string; to: string }> } = { edges: [] };
    for (let i = 0; i < 40 && graph.edges.length === 0; i++) {
      const r = await baton(['lineage', 'signal', 'signal_a', '1', '--json']);
      expect(r.code).toBe(0);
      graph = JSON.parse(r.stdout);
      if (graph.edges.length === 0) await new Promise((res) => setTimeout(res, 250));
    }
    expect(graph.edges).toContainEqual({ from: 'signal:signal_a#1', kind: 'TRIGGERED', to: 'workflow:sample-signal-trigger-wf/1' });
    const tree = await baton(['lineage', 'instance', 'sample-signal-trigger-wf', '1']);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toContain('workflow:sample-signal-trigger-wf/1');
    expect(tree.stdout).toMatch(/TRIGGERED by signal:signal_a#1/);
  }, 120_000);

  it('previews a schedule without a server', async () => {
    const r = await baton(['schedule', 'preview', '--cron', '0 9 * * *', '--timezone', 'Europe/Berlin', '--from', '2025-03-29T00:00:00Z', '--count', '2'], { BATON_URL: 'http://127.0.0.1:1' });
    expect(r).toMatchObject({ code: 0, stdout: '2025-03-29T09:00:00+01:00 Sat\n2025-03-30T09:00:00+02:00 Sun\n' });
    const j = await baton(['schedule', 'preview', '--cron', '0 9 * * *', '--timezone', 'Europe/Berlin', '--from', '2025-03-29T00:00:00Z', '--count', '1', '--json']);
    expect(JSON.parse(j.stdout)).toEqual([{ fire_time: '2025-03-29T09:00:00+01:00', weekday: 'Sat' }]);
    expect((await baton(['schedule', 'preview', '--cron', 'not a cron'])).code).toBe(2);
  }, 60_000);

  it('exits 1 for not found, 2 for a wrong command line, 3 when the server is unreachable, 1 without a token', async () => {
    const [missing, usage, badFlag, unreachable, noToken] = await Promise.all([
      baton(['workflow', 'show', 'no-such-workflow']),
      baton(['workflow', 'start']),
      baton(['signal', 'list', 'x', '--bogus']),
      baton(['signal', 'list', 'x'], { BATON_URL: 'http://127.0.0.1:1' }),
      baton(['workflow', 'show', 'sample-dag-test-1'], { BATON_TOKEN: '' }),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('missing ID');
    expect(badFlag.code).toBe(2);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:1');
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('401');
  }, 60_000);

  it('redraws the step list in place on a terminal while the run goes on', async () => {
    const file = path.join(dir.path, 'naps.json');
    const nap = (id: string, next: Record<string, string>) => ({ step: { id, type: 'Sleep', params: { sleep_seconds: { value: 30, type: 'LONG' } }, transition: { successors: next } } });
    await writeFile(file, JSON.stringify({ properties: { owner: 'tester' }, workflow: { id: 'naps', steps: [nap('first', { second: 'true' }), nap('second', {})] } }));
    expect((await baton(['workflow', 'push', file])).code).toBe(0);
    expect((await baton(['workflow', 'start', 'naps'])).code).toBe(0);
    const stdout = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await main(['instance', 'status', 'naps', '1', '--watch', '--interval', '100'], { stdout, stderr, env: { BATON_URL: url, BATON_TOKEN: TOKEN }, cwd: dir.path });
    expect(code).toBe(0);
    // Cursor up over the previous drawing, clear, draw again; the last drawing shows the end.
    expect(out).toContain('\u001b[3F\u001b[0J');
    const last = out.split('\u001b[0J').at(-1)!;
    expect(last).toMatch(/^naps instance 1 run 1: SUCCEEDED\n {2}first {3}SUCCEEDED\n {2}second {2}SUCCEEDED\n$/);
  }, 60_000);

  it('stops the whole service gracefully on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    expect(code).toBe(0);
    expect(server.logs.some((l) => l.msg === 'server stopped')).toBe(true);
    expect(server.logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  }, 60_000);
});

