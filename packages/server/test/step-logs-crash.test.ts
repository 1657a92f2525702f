import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

/**
 * A Shell step's logs outlive a SIGKILL of the server process that ran it: what was stored before
 * the kill is there after a restart (on PostgreSQL, and on PGlite in a data folder), and a
 * follower of the attempt ends once the attempt does.
 */
const TOKEN = 'steplogs-crash-admin-token-0123456789';
const procs: BatonProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const p of procs.splice(0)) await stop(p);
});
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function cli(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(args, { stdout: out, stderr: err, env: { BATON_URL: url, BATON_TOKEN: TOKEN }, cwd: process.cwd() });
  return { code, stdout, stderr };
}

async function api(url: string, method: string, p: string, body?: object): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function serve(env: Record<string, string>): Promise<{ proc: BatonProcess; url: string }> {
  const proc = spawnBaton({ PORT: '0', BATON_SHELL_STEPS: '1', BATON_TOKENS: `ops:admin:${TOKEN}`, ...env });
  procs.push(proc);
  await waitUntilReady(proc, 90_000);
  return { proc, url: await proc.ready };
}

describe.each(['postgres', 'pglite'] as const)('Shell step logs across a SIGKILL of the server (%s)', (kind) => {
  it('keeps every line stored before the kill, readable after a restart; a follower ends with the attempt', async () => {
    let env: Record<string, string>;
    if (kind === 'postgres') {
      const database: Database = await createTestDatabase();
      cleanups.push(() => database.drop());
      env = { DATABASE_URL: database.url };
    } else {
      const dir = await tempDir('baton-steplogs-crash-');
      cleanups.push(() => dir.remove());
      env = { BATON_DATA_DIR: path.join(dir.path, 'data') };
    }
    const first = await serve(env);
    // `$$` is a literal `$`: a STRING_ARRAY's elements are interpolated (`$name` reads a param), as in Maestro.
    const wf = {
      properties: { owner: 'tester', run_strategy: 'PARALLEL' },
      workflow: {
        id: 'chatty',
        steps: [{ step: { id: 'talk', type: 'Shell', params: { command: { type: 'STRING_ARRAY', value: ['sh', '-c', 'i=0; while [ $$i -lt 400 ]; do echo "line $$i"; i=$$((i+1)); sleep 0.05; done'] } } } }],
      },
    };
    expect((await api(first.url, 'POST', '/api/v3/workflows', wf)).status).toBe(200);
    const started = await api(first.url, 'POST', '/api/v3/workflows/chatty/versions/latest/actions/start', {});
    expect(started.status).toBe(200);
    const iid = started.json.workflow_instance_id as number;
    const logs = `/api/v3/workflows/chatty/instances/${iid}/runs/latest/steps/talk/attempts/latest/logs`;

    // Read while it runs, until a good part is stored; then SIGKILL the server mid-step.
    let seen = '';
    for (let i = 0; !seen.includes('line 20\n'); i++) {
      if (i > 400) throw new Error(`the step printed nothing readable: ${seen}`);
      const page = await api(first.url, 'GET', logs);
      // 404 until the step's attempt exists.
      if (page.status === 200) seen = page.json.text as string;
      else expect(page.status).toBe(404);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.proc.child.kill('SIGKILL');
    expect((await first.proc.exited).signal).toBe('SIGKILL');

    const second = await serve(env);
    const after = await api(second.url, 'GET', logs);
    expect(after.status).toBe(200);
    expect((after.json.text as string).startsWith(seen)).toBe(true);
    expect(after.json).toMatchObject({ status: 'RUNNING', closed: false, complete: false });
    // Lines in order, none repeated or torn: what was stored is a prefix of what was printed.
    const lines = (after.json.text as string).split('\n').filter(Boolean);
    expect(lines).toEqual(lines.map((_, i) => `line ${i}`));

    // The attempt is ended from here (its runner is gone); a follower then ends too, exit 1.
    expect((await api(second.url, 'PUT', `/api/v3/workflows/chatty/instances/${iid}/actions/stop`, {})).status).toBe(200);
    const followed = await cli(second.url, ['step', 'logs', 'chatty', String(iid), 'talk', '--follow', '--stream', 'stdout', '--interval', '200']);
    expect(followed.code).toBe(1);
    expect(followed.stdout).toBe(after.json.text);
    expect(followed.stderr).toBe('baton: step talk attempt 1 ended STOPPED\n');
  }, 180_000);
});
