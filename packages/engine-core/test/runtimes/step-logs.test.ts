import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkflowYaml } from '../../src/definition/yaml-dsl.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { AttemptLogWriter } from '../../src/runtime/step-logs.js';
import { readStepLog, StepLogOffsetError, type StepLogRead } from '../../src/runtime/step-logs-read.js';
import type { LogStream } from '../../src/runtime/step-runtime.js';
import { registerBuiltinRuntimes } from '../../src/runtimes/builtin.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { testEngine, until } from '../runtime/support/engine.js';

const MAX = 4096;
const HALF = MAX / 2;
const q = (s: string): string => JSON.stringify(s);
const node = process.execPath;

/**
 * Step logs through the engine on each database: a Shell step's stdout and stderr are stored while
 * it runs, bounded (head and tail kept, a marker with the dropped size), readable page by page from
 * an offset; an Http step keeps its response's status, headers and the head of its body.
 */
describe.each<DbKind>(['pglite', 'postgres'])('step logs (%s)', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  let work: string;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'baton-step-logs-'));
    server = http.createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain; charset=utf-8', 'x-test': 'kept' });
      // /huge streams more than the runtime reads (no Content-Length): the step fails, its head is kept.
      if (req.url === '/huge') for (let i = 0; i < 10; i++) res.write('y'.repeat(1000));
      res.end(req.url === '/missing' ? `not here ${'z'.repeat(1000)}` : 'fine');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Head: "H0000 H0001 ..." lines; tail: "T0000 ..." lines; a stderr line between.
    const loud = `for (let i = 0; i < 2000; i++) process.stdout.write('H' + String(i).padStart(4, '0') + '\\n'); process.stderr.write('warn: ünïcode ✓\\n'); for (let i = 0; i < 1000; i++) process.stdout.write('T' + String(i).padStart(4, '0') + '\\n'); process.exitCode = 2`;
    const gate = path.join(work, 'go');
    const defs = new InMemoryDefinitions();
    for (const yaml of [
      `
Workflow:
  id: logs-loud
  jobs:
    - job:
        id: loud
        type: Shell
        command: [${q(node)}, "-e", ${q(loud)}]
        table: "events"
`,
      `
Workflow:
  id: logs-live
  jobs:
    - job:
        id: live
        type: Shell
        command: ["sh", "-c", ${q(`echo first line; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo second line; echo oops >&2`)}]
`,
      `
Workflow:
  id: logs-huge
  jobs:
    - job:
        id: call
        type: Http
        'http<pmap>':
          url: "${base}/huge"
`,
      `
Workflow:
  id: logs-http
  jobs:
    - job:
        id: call
        type: Http
        'http<pmap>':
          url: "${base}/missing"
          method: "GET"
`,
    ]) {
      const parsed = parseWorkflowYaml(yaml);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      defs.add(parsed.value);
    }
    t = await openTestDb(kind);
    ({ engine, errors } = testEngine(t.db, defs, { stepLogs: { maxBytes: MAX, flushMs: 50, httpBodyBytes: 100 } }));
    registerBuiltinRuntimes(engine, { shell: { killGraceMs: 500 }, http: { allowedHosts: ['127.0.0.1'], maxResponseBytes: 5000 } });
    await engine.start();
  }, 60_000);

  afterAll(async () => {
    await engine?.stop();
    await t?.close();
    await new Promise((r) => server?.close(r));
    await rm(work, { recursive: true, force: true });
  });

  const read = (wf: string, iid: number, step: string, stream: LogStream, offset = 0, limit = 1 << 20): Promise<StepLogRead | undefined> =>
    engine.getStepLog(wf, iid, step, { stream, offset, limit });

  /** Follows a stream page by page as a client would, until the attempt ended and all was read. */
  async function follow(wf: string, iid: number, step: string, stream: LogStream, limit: number): Promise<string> {
    let text = '';
    let offset = 0;
    for (let i = 0; i < 10_000; i++) {
      const r = (await read(wf, iid, step, stream, offset, limit))!;
      text += r.page.text;
      offset = r.page.nextOffset;
      if (r.complete) return text;
      if (r.page.text === '') await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('the log never completed');
  }

  it('keeps the head and the tail of a stream past the bound, with a marker saying how many bytes were dropped', async () => {
    const { workflowInstanceId: iid } = await engine.startWorkflow({ workflowId: 'logs-loud' });
    expect(await engine.waitForInstance('logs-loud', iid, 30_000)).toBe('FAILED');
    const total = 3000 * 6;
    const out = (await read('logs-loud', iid, 'loud', 'stdout'))!;
    expect(out.complete).toBe(true);
    expect(out.page).toMatchObject({ totalBytes: total, storedBytes: MAX, droppedBytes: total - MAX, closed: true, offset: 0, nextOffset: total });
    const expected = Array.from({ length: 2000 }, (_, i) => `H${String(i).padStart(4, '0')}\n`).join('') + Array.from({ length: 1000 }, (_, i) => `T${String(i).padStart(4, '0')}\n`).join('');
    expect(out.page.text).toBe(`${expected.slice(0, HALF)}\n[… ${total - MAX} bytes dropped …]\n${expected.slice(total - HALF)}`);
    expect(out.page.gaps).toEqual([{ offset: HALF, bytes: total - MAX }]);
    // stderr is kept apart, whole, multi-byte characters intact.
    const err = (await read('logs-loud', iid, 'loud', 'stderr'))!;
    expect(err.page.text).toBe('warn: ünïcode ✓\n');
    expect(err.page.droppedBytes).toBe(0);
    // Followed in small pages, the text is the same.
    expect(await follow('logs-loud', iid, 'loud', 'stdout', 1000)).toBe(out.page.text);
    expect(await follow('logs-loud', iid, 'loud', 'stderr', 5)).toBe('warn: ünïcode ✓\n');
    // The attempt: evaluated params, failure reason, sizes of its logs; the database holds only the bound.
    const a = (await engine.getStepAttempt('logs-loud', iid, 'loud'))!;
    expect(a.status).toBe('USER_FAILED');
    expect(a.reason).toContain('exited with code 2');
    expect(a.reason).toContain('warn: ünïcode');
    expect(a.params.table?.value).toBe('events');
    expect(a.params.command?.type).toBe('STRING_ARRAY');
    expect(a.logs).toEqual([
      { stream: 'stdout', totalBytes: total, storedBytes: MAX, droppedBytes: total - MAX, closed: true },
      { stream: 'stderr', totalBytes: 20, storedBytes: 20, droppedBytes: 0, closed: true },
    ]);
    expect(a.httpResponse).toBeNull();
    const stored = await t.db.query<{ n: number | string }>(
      `SELECT sum(length(c.data)) AS n FROM baton_step_log_chunks c JOIN baton_step_attempts a ON a.id = c.attempt_pk
       JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE i.workflow_id = 'logs-loud' AND i.instance_id = $1 AND c.stream = 'stdout'`,
      [iid],
    );
    expect(Number(stored.rows[0]!.n)).toBe(MAX);
    // Past the end is an error naming the size; an offset inside the dropped range starts with the marker.
    await expect(read('logs-loud', iid, 'loud', 'stdout', total + 1)).rejects.toThrow(StepLogOffsetError);
    const mid = (await read('logs-loud', iid, 'loud', 'stdout', HALF + 100))!;
    expect(mid.page.text).toBe(`\n[… ${total - MAX - 100} bytes dropped …]\n${expected.slice(total - HALF)}`);
    expect(errors).toEqual([]);
  });

  it('stores output while the step runs, so a follower sees it before the step ends', async () => {
    const { workflowInstanceId: iid } = await engine.startWorkflow({ workflowId: 'logs-live' });
    const early = await until('the first line is stored', async () => {
      const r = await read('logs-live', iid, 'live', 'stdout');
      return r?.page.text.includes('first line') ? r : undefined;
    });
    expect(early.attempt.status).toBe('RUNNING');
    expect(early.complete).toBe(false);
    expect(early.page.closed).toBe(false);
    const following = follow('logs-live', iid, 'live', 'stdout', 4);
    await new Promise((r) => setTimeout(r, 200));
    await writeFile(path.join(work, 'go'), '');
    expect(await following).toBe('first line\nsecond line\n');
    expect(await engine.waitForInstance('logs-live', iid, 30_000)).toBe('SUCCEEDED');
    expect((await read('logs-live', iid, 'live', 'stderr'))!.page.text).toBe('oops\n');
    expect(errors).toEqual([]);
  });

  it('keeps an Http step\'s response status, headers and the head of its body', async () => {
    const { workflowInstanceId: iid } = await engine.startWorkflow({ workflowId: 'logs-http' });
    expect(await engine.waitForInstance('logs-http', iid, 30_000)).toBe('FAILED');
    const a = (await engine.getStepAttempt('logs-http', iid, 'call'))!;
    expect(a.status).toBe('USER_FAILED');
    expect(a.reason).toContain('answered 404');
    expect(a.outputs.status_code?.value).toBe(404n);
    expect(a.httpResponse).toMatchObject({
      method: 'GET',
      url: `${base}/missing`,
      statusCode: 404,
      statusText: 'Not Found',
      body: `not here ${'z'.repeat(91)}`,
      bodyBytes: 1009,
      bodyTruncated: true,
    });
    expect(a.httpResponse!.headers['x-test']).toBe('kept');
    expect(a.httpResponse!.headers['content-type']).toBe('text/plain; charset=utf-8');
    const logs = (await read('logs-http', iid, 'call', 'stdout'))!;
    expect(logs.httpResponse?.statusCode).toBe(404);
    expect(logs.page.totalBytes).toBe(0);
    expect(logs.complete).toBe(true);
    expect(errors).toEqual([]);
  });

  it('keeps the head of a response too large for the step, which fails', async () => {
    const { workflowInstanceId: iid } = await engine.startWorkflow({ workflowId: 'logs-huge' });
    expect(await engine.waitForInstance('logs-huge', iid, 30_000)).toBe('FAILED');
    const a = (await engine.getStepAttempt('logs-huge', iid, 'call'))!;
    expect(a.reason).toContain('the response body is larger than 5000 bytes');
    expect(a.httpResponse).toMatchObject({ statusCode: 200, body: 'y'.repeat(100), bodyTruncated: true });
    expect(a.httpResponse!.bodyBytes).toBeGreaterThan(5000);
  });

  it('trims the stored tail at every write, keeps characters cut between writes whole, and continues after an earlier owner', async () => {
    const inst = await t.db.query<{ id: number }>(`INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, status) VALUES ('direct', 1, 1, 'IN_PROGRESS') RETURNING id`);
    const att = await t.db.query<{ id: number }>(`INSERT INTO baton_step_attempts (instance_pk, step_id, status) VALUES ($1, 'w', 'RUNNING') RETURNING id`, [inst.rows[0]!.id]);
    const pk = Number(att.rows[0]!.id);
    const limits = { maxBytes: 64, flushMs: 10_000, httpBodyBytes: 10 };
    const failures: unknown[] = [];
    const writer = new AttemptLogWriter(t.db, pk, limits, (e) => failures.push(e));
    const text = 'ab€'.repeat(40); // 5 bytes each, '€' is 3 bytes: writes split characters
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 7) {
      writer.write('stdout', bytes.subarray(i, i + 7));
      await writer.flush();
      const page = await readStepLog(t.db, pk, 'stdout', 0, 1000);
      expect(page.storedBytes).toBeLessThanOrEqual(64);
      const stored = await t.db.query<{ n: number | string }>('SELECT coalesce(sum(length(data)), 0) AS n FROM baton_step_log_chunks WHERE attempt_pk = $1', [pk]);
      expect(Number(stored.rows[0]!.n)).toBe(page.storedBytes);
    }
    await writer.close(false);
    const page = await readStepLog(t.db, pk, 'stdout', 0, 1000);
    expect(page).toMatchObject({ totalBytes: 200, storedBytes: 64, droppedBytes: 136, closed: true, nextOffset: 200 });
    // The head's last character and the tail's first are cut by the bound: they are left out, not garbled.
    expect(page.text).toBe(`${bytes.subarray(0, 32).toString().replace(/\uFFFD$/, '')}\n[… 136 bytes dropped …]\n${bytes.subarray(168).toString().replace(/^\uFFFD+/, '')}`);
    expect(page.text).not.toContain('\uFFFD');
    // Read three bytes at a time, no character is split across pages.
    let followed = '';
    for (let offset = 0; offset < 200; ) {
      const p = await readStepLog(t.db, pk, 'stdout', offset, 3);
      expect(p.nextOffset).toBeGreaterThan(offset);
      followed += p.text;
      offset = p.nextOffset;
    }
    expect(followed).toBe(page.text);
    // A new owner of the attempt (a resumed idempotent command) appends after what is stored.
    const next = new AttemptLogWriter(t.db, pk, limits, (e) => failures.push(e));
    next.write('stdout', Buffer.from('again\n'));
    await next.close(true);
    const after = await readStepLog(t.db, pk, 'stdout', 190, 1000);
    expect(after.text.endsWith('ab€ab€again\n')).toBe(true);
    expect(after.totalBytes).toBe(206);
    expect(failures).toEqual([]);
  });
});
