import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processGroupMembers } from '../../src/runtimes/process-group.js';
import { shellRuntime } from '../../src/runtimes/shell-runtime.js';
import { stepContext } from './fake-context.js';

const node = process.execPath;
let work: string;

beforeAll(async () => {
  work = await realpath(await mkdtemp(path.join(tmpdir(), 'baton-shell-test-')));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const runtime = shellRuntime({ killGraceMs: 300 });
const ctx = (over: Parameters<typeof stepContext>[0] = {}): ReturnType<typeof stepContext> => stepContext({ stepType: 'Shell', ...over });

/** Alive = exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function pidsFrom(file: string, count: number): Promise<number[]> {
  for (let i = 0; i < 250; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const pids = text.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
    if (pids.length >= count) return pids;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never listed ${count} pids`);
}

/** `sh` that records its own pid and a background grandchild's, then waits on a foreground sleep. */
function grandchildScript(pidFile: string, trapTerm = false): string[] {
  return ['sh', '-c', `${trapTerm ? 'trap "" TERM; ' : ''}sleep 100 & echo $! > '${pidFile}'; echo $$ >> '${pidFile}'; sleep 100; echo never`];
}

describe('Shell runtime', () => {
  it('runs argv directly and reads outputs from BATON_OUTPUT_FILE with inferred types', async () => {
    const script = `require('fs').writeFileSync(process.env.BATON_OUTPUT_FILE, '{"count": 9007199254740993, "ratio": 0.5, "name": "a b", "ok": true, "ids": [1, 2], "tags": {"k": "v"}, "nested": {"n": 1}}')`;
    const c = ctx();
    const r = await runtime.run({ command: [node, '-e', script] }, c);
    expect(r).toEqual({
      status: 'SUCCEEDED',
      outputs: { count: 9007199254740993n, ratio: 0.5, name: 'a b', ok: true, ids: [1n, 2n], tags: { k: 'v' }, nested: { n: 1n } },
    });
    expect(c.entries[0]).toContain('-e');
  });

  it('does not interpret shell syntax in arguments', async () => {
    const r = await runtime.run({ command: ['echo', '$(touch pwned); `id`'], output_from: 'stdout' }, ctx());
    expect(r.status).toBe('USER_FAILED'); // the literal text is not JSON
    expect(r.message).toContain('not valid JSON');
  });

  it('reads outputs from the last line of stdout', async () => {
    const r = await runtime.run({ command: ['sh', '-c', 'echo progress; echo \'{"rows": 3, "table": "t"}\'; echo'], output_from: 'stdout' }, ctx());
    expect(r).toEqual({ status: 'SUCCEEDED', outputs: { rows: 3n, table: 't' } });
  });

  it('succeeds without outputs when the command writes none', async () => {
    expect(await runtime.run({ command: ['true'] }, ctx())).toEqual({ status: 'SUCCEEDED', outputs: {} });
  });

  it('refuses unusable outputs with a clear message', async () => {
    const nul = await runtime.run({ command: ['sh', '-c', 'echo \'{"x": null}\' > "$BATON_OUTPUT_FILE"'] }, ctx());
    expect(nul.status).toBe('USER_FAILED');
    expect(nul.message).toContain('output x is null');
    const arr = await runtime.run({ command: ['sh', '-c', 'echo "[1]"'], output_from: 'stdout' }, ctx());
    expect(arr.message).toContain('JSON object');
  });

  it('fails a non-zero exit as a user failure with the exit code and stderr tail', async () => {
    const c = ctx();
    const r = await runtime.run({ command: ['sh', '-c', 'echo out; echo "disk full" >&2; exit 3'] }, c);
    expect(r.status).toBe('USER_FAILED');
    expect(r.message).toContain('exited with code 3');
    expect(r.message).toContain('disk full');
    expect(c.printed).toEqual({ stdout: 'out\n', stderr: 'disk full\n' });
    expect(c.entries).toContain("printed 4 bytes on stdout and 10 on stderr (see the attempt's logs)");
  });

  it('puts only the tail of a long stderr in the message, and all of it in the logs', async () => {
    const small = shellRuntime({ tailBytes: 1000 });
    const c = ctx();
    const r = await small.run({ command: [node, '-e', "process.stderr.write('a'.repeat(200000) + 'THE END'); process.exit(1)"] }, c);
    expect(r.message).toMatch(/THE END$/);
    expect(r.message!.length).toBeLessThan(1200);
    expect(c.printed.stderr).toBe(`${'a'.repeat(200000)}THE END`);
  });

  it('passes only PATH, HOME, LANG and the step env, in the working dir', async () => {
    process.env.BATON_TEST_SECRET = 'must not leak';
    try {
      const script = `require('fs').writeFileSync(process.env.BATON_OUTPUT_FILE, JSON.stringify({ cwd: process.cwd(), greeting: process.env.GREETING, secret: process.env.BATON_TEST_SECRET ?? 'absent', has_path: process.env.PATH !== undefined }))`;
      const r = await runtime.run({ command: [node, '-e', script], env: { GREETING: 'hi there' }, working_dir: work }, ctx());
      expect(r).toEqual({ status: 'SUCCEEDED', outputs: { cwd: work, greeting: 'hi there', secret: 'absent', has_path: true } });
    } finally {
      delete process.env.BATON_TEST_SECRET;
    }
  });

  it('resolves a relative working_dir against baseDir and refuses a missing one', async () => {
    const rt = shellRuntime({ baseDir: path.dirname(work) });
    const r = await rt.run({ command: ['sh', '-c', 'pwd'], working_dir: path.basename(work), output_from: 'stdout' }, ctx());
    expect(r.message).toContain('not valid JSON'); // pwd's line is not JSON, but it ran there:
    const ok = await rt.run({ command: ['sh', '-c', 'printf \'{"d":"%s"}\\n\' "$(pwd)"'], working_dir: path.basename(work), output_from: 'stdout' }, ctx());
    expect(ok.outputs).toEqual({ d: work });
    const missing = await rt.run({ command: ['true'], working_dir: '/no/such/dir' }, ctx());
    expect(missing).toEqual({ status: 'USER_FAILED', message: 'Shell step: working_dir /no/such/dir is not an existing directory' });
  });

  it('ends the whole process group on timeout, grandchildren included', async () => {
    const pidFile = path.join(work, 'timeout.pids');
    const t0 = Date.now();
    // 2 s: time for a loaded machine to start sh, fork the grandchild and write both pids first.
    const r = await runtime.run({ command: grandchildScript(pidFile), timeout: 2 }, ctx());
    expect(r.status).toBe('TIMED_OUT');
    expect(Date.now() - t0).toBeLessThan(30_000); // far under the script's own 100 s
    const [grandchild, shell] = await pidsFrom(pidFile, 2);
    expect(alive(grandchild!)).toBe(false);
    expect(alive(shell!)).toBe(false);
    expect(processGroupMembers(shell!)).toEqual([]);
  });

  it('uses SIGKILL when the group ignores SIGTERM', async () => {
    const pidFile = path.join(work, 'stubborn.pids');
    const r = await runtime.run({ command: grandchildScript(pidFile, true), timeout: '2s' }, ctx());
    expect(r.status).toBe('TIMED_OUT');
    const pids = await pidsFrom(pidFile, 2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(processGroupMembers(pids[1]!)).toEqual([]);
  });

  it('ends the whole process group when ctx.signal aborts', async () => {
    const pidFile = path.join(work, 'abort.pids');
    const ctrl = new AbortController();
    const running = runtime.run({ command: grandchildScript(pidFile) }, ctx({ signal: ctrl.signal }));
    const pids = await pidsFrom(pidFile, 2);
    expect(pids.every(alive)).toBe(true);
    ctrl.abort(new Error('stop'));
    const r = await running;
    expect(r.status).toBe('PLATFORM_FAILED');
    expect(r.message).toContain('stopped');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(processGroupMembers(pids[1]!)).toEqual([]);
  });

  it('ends background processes a successful command leaves behind', async () => {
    const pidFile = path.join(work, 'leftover.pids');
    const r = await runtime.run({ command: ['sh', '-c', `sleep 100 & echo $! > '${pidFile}'; exit 0`] }, ctx());
    expect(r.status).toBe('SUCCEEDED');
    const [bg] = await pidsFrom(pidFile, 1);
    expect(alive(bg!)).toBe(false);
  });

  it('fails a resumed attempt unless the command is idempotent', async () => {
    const resumed = await runtime.run({ command: ['true'] }, ctx({ resumed: true }));
    expect(resumed.status).toBe('PLATFORM_FAILED');
    expect(resumed.message).toContain('cannot be reattached');
    const again = await runtime.run({ command: ['true'], idempotent: true }, ctx({ resumed: true }));
    expect(again.status).toBe('SUCCEEDED');
  });

  it('explains bad params and missing programs', async () => {
    expect((await runtime.run({ command: 'ls -l' }, ctx())).message).toContain('never run through a shell');
    expect((await runtime.run({ command: [] }, ctx())).message).toContain('at least the program');
    expect((await runtime.run({ command: ['true'], env: { 'A-B': 'x' } }, ctx())).message).toContain('not a valid variable name');
    expect((await runtime.run({ command: ['true'], output_from: 'stderr' }, ctx())).message).toContain('output_from');
    expect((await runtime.run({ command: ['true'], timeout: -1 }, ctx())).message).toContain('positive');
    expect(await runtime.run({ command: ['/no/such/program'] }, ctx())).toEqual({ status: 'USER_FAILED', message: '/no/such/program was not found' });
  });
});
