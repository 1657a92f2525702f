import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { runCli, sendJson, waitForStep } from './helpers/service-http.js';

/**
 * Step detail over REST and the CLI, against the whole service on PGlite listening on a port:
 * attempt details (params, outputs, reason, times, log sizes, Http response), the logs route
 * (bound and marker, offsets, 400/404), `baton step show` and `baton step logs [--follow]`.
 */
let s: ServiceApp;
let url: string;
let work: string;
let target: http.Server;
let base: string;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const node = process.execPath;

const send = (method: 'POST' | 'GET', p: string, payload?: object) => sendJson(s, method, p, payload);

function shellWorkflow(id: string, command: string[], extra: Record<string, unknown> = {}) {
  return {
    properties: { owner: 'tester', run_strategy: 'PARALLEL' },
    workflow: { id, steps: [{ step: { id: 'run', type: 'Shell', params: { command: { value: command, type: 'STRING_ARRAY' }, ...extra } } }] },
  };
}

async function start(wf: string): Promise<number> {
  const r = await send('POST', `/api/v3/workflows/${wf}/versions/latest/actions/start`, {});
  expect(r.statusCode, r.body).toBe(200);
  return r.json().workflow_instance_id as number;
}

async function ended(wf: string, iid: number): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const run = (await send('GET', `/api/v3/workflows/${wf}/instances/${iid}/runs/latest`)).json() as { status: string };
    if (['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(run.status)) return run.status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${wf} ${iid} did not end`);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'baton-step-logs-routes-'));
  target = http.createServer((req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'x-request-id': 'r-1' });
    res.end(JSON.stringify({ error: 'busy', filler: 'f'.repeat(500) }));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  s = await startServiceApp({ BATON_SHELL_STEPS: '1', BATON_STEP_LOG_BYTES: '1KiB', BATON_STEP_HTTP_BODY_BYTES: '64', BATON_HTTP_ALLOWED_HOSTS: '127.0.0.1' });
  url = await s.app.listen({ port: 0, host: '127.0.0.1' });
  const loud = `for (let i = 0; i < 500; i++) console.log('line ' + i); console.error('to stderr'); require('fs').writeFileSync(process.env.BATON_OUTPUT_FILE, JSON.stringify({ rows: 500 }))`;
  const gate = path.join(work, 'go');
  const defs = [
    shellWorkflow('logs-loud', [node, '-e', loud], { table: { value: 'events', type: 'STRING' } }),
    shellWorkflow('logs-live', ['sh', '-c', `echo started; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo finished; echo bye >&2`]),
    shellWorkflow('logs-fail', ['sh', '-c', 'echo working; echo "disk full" >&2; exit 4']),
    {
      properties: { owner: 'tester', run_strategy: 'PARALLEL' },
      workflow: { id: 'logs-http', steps: [{ step: { id: 'call', type: 'Http', params: { http: { type: 'MAP', value: { url: { type: 'STRING', value: `${base}/busy` } } } } } }] },
    },
  ];
  for (const d of defs) {
    const r = await send('POST', '/api/v3/workflows', d);
    expect(r.statusCode, r.body).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await s?.close();
  await new Promise((r) => target?.close(r));
  await rm(work, { recursive: true, force: true });
});

describe('GET .../steps/{stepId}/attempts/{n} and .../logs', () => {
  it('gives the evaluated params, outputs, times and log sizes; the logs keep head and tail with a marker', async () => {
    const iid = await start('logs-loud');
    expect(await ended('logs-loud', iid)).toBe('SUCCEEDED');
    const a = await send('GET', `/api/v3/workflows/logs-loud/instances/${iid}/runs/latest/steps/run/attempts/1`);
    expect(a.statusCode, a.body).toBe(200);
    const body = a.json();
    expect(body).toMatchObject({ workflow_id: 'logs-loud', workflow_instance_id: iid, step_id: 'run', step_attempt_id: 1, step_type: 'Shell', status: 'SUCCEEDED', reason: null, http_response: null });
    expect(body.params.table).toEqual({ type: 'STRING', value: 'events' });
    expect(body.outputs.rows).toEqual({ type: 'LONG', value: 500 });
    for (const t of [body.create_time, body.start_time, body.end_time, body.timeline[0].at]) expect(t).toMatch(ISO);
    const total = Array.from({ length: 500 }, (_, i) => `line ${i}\n`).join('');
    const size = Buffer.byteLength(total);
    expect(body.logs).toEqual([
      { stream: 'stdout', total_bytes: size, stored_bytes: 1024, dropped_bytes: size - 1024, closed: true },
      { stream: 'stderr', total_bytes: 10, stored_bytes: 10, dropped_bytes: 0, closed: true },
    ]);
    const logs = await send('GET', `/api/v3/workflows/logs-loud/instances/${iid}/runs/1/steps/run/attempts/latest/logs`);
    expect(logs.statusCode, logs.body).toBe(200);
    const page = logs.json();
    expect(page).toMatchObject({ stream: 'stdout', offset: 0, next_offset: size, total_bytes: size, complete: true, gaps: [{ offset: 512, bytes: size - 1024 }] });
    expect(page.text).toBe(`${total.slice(0, 512)}\n[… ${size - 1024} bytes dropped …]\n${total.slice(size - 512)}`);
    const err = (await send('GET', `/api/v3/workflows/logs-loud/instances/${iid}/runs/latest/steps/run/attempts/1/logs?stream=stderr`)).json();
    expect(err).toMatchObject({ stream: 'stderr', text: 'to stderr\n', complete: true });
    const tail = (await send('GET', `/api/v3/workflows/logs-loud/instances/${iid}/runs/latest/steps/run/attempts/1/logs?offset=${size - 9}&limit=4`)).json();
    expect(tail).toMatchObject({ text: 'line', offset: size - 9, next_offset: size - 5, complete: false });
  });

  it('answers 400 naming a bad parameter and 404 naming what does not exist', async () => {
    const iid = await start('logs-fail');
    await ended('logs-fail', iid);
    const at = `/api/v3/workflows/logs-fail/instances/${iid}/runs/latest/steps/run/attempts`;
    const cases: Array<[string, number, RegExp]> = [
      [`${at}/1/logs?stream=stdin`, 400, /stream/],
      [`${at}/1/logs?offset=-1`, 400, /offset/],
      [`${at}/1/logs?offset=99999`, 400, /offset 99999 is past the end of stdout \(8 bytes so far\)/],
      [`${at}/1/logs?limit=0`, 400, /limit/],
      [`${at}/1/logs?follow=1`, 400, /follow/],
      [`${at}/first/logs`, 400, /attempt/],
      [`${at}/2/logs`, 404, /step run of logs-fail instance \d+ has no attempt 2/],
      [`/api/v3/workflows/logs-fail/instances/${iid}/runs/latest/steps/nope/attempts/1/logs`, 404, /step nope of logs-fail/],
      [`/api/v3/workflows/logs-fail/instances/9999/runs/latest/steps/run/attempts/1/logs`, 404, /has no instance 9999/],
      [`/api/v3/workflows/logs-fail/instances/${iid}/runs/7/steps/run/attempts/1/logs`, 404, /no instance \d+ run 7/],
      [`/api/v3/workflows/missing-wf/instances/1/runs/latest/steps/run/attempts/1`, 404, /missing-wf/],
    ];
    for (const [p, status, detail] of cases) {
      const r = await send('GET', p);
      expect(r.statusCode, `${p}: ${r.body}`).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(r.json()), p).toMatch(detail);
    }
  });

  it('keeps an Http step\'s status, headers and the head of its body', async () => {
    const iid = await start('logs-http');
    expect(await ended('logs-http', iid)).toBe('FAILED');
    const a = (await send('GET', `/api/v3/workflows/logs-http/instances/${iid}/runs/latest/steps/call/attempts/latest`)).json();
    expect(a.status).toBe('USER_FAILED');
    expect(a.reason).toContain('answered 503');
    expect(a.http_response).toMatchObject({ method: 'GET', url: `${base}/busy`, status_code: 503, status_text: 'Service Unavailable', body_bytes: Buffer.byteLength(JSON.stringify({ error: 'busy', filler: 'f'.repeat(500) })), body_truncated: true });
    expect(a.http_response.body).toBe(JSON.stringify({ error: 'busy', filler: 'f'.repeat(500) }).slice(0, 64));
    expect(a.http_response.headers['x-request-id']).toBe('r-1');
    expect(a.http_response.time).toMatch(ISO);
  });
});

describe('baton step show / logs', () => {
  it('show prints the attempt with ISO-8601 times, params, outputs, reason and logs; --json prints the answer', async () => {
    const iid = await start('logs-fail');
    expect(await ended('logs-fail', iid)).toBe('FAILED');
    const text = await runCli(url, ['step', 'show', 'logs-fail', String(iid), 'run']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`step run of logs-fail instance ${iid} run 1, attempt 1 (Shell): USER_FAILED\n`);
    expect(text.stdout).toMatch(/ {2}reason: {2}sh exited with code 4; stderr: disk full\n/);
    expect(text.stdout).toMatch(/ {2}started: \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\n/);
    expect(text.stdout).toContain('  command = ["sh","-c","echo working; echo \\"disk full\\" >&2; exit 4"] (STRING_ARRAY)\n');
    expect(text.stdout).toContain('logs: stdout 8 bytes, stderr 10 bytes\n');
    const json = await runCli(url, ['step', 'show', 'logs-fail', String(iid), 'run', '--attempt', '1', '--run', '1', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'USER_FAILED', step_attempt_id: 1 });
    const logs = await runCli(url, ['step', 'logs', 'logs-fail', String(iid), 'run']);
    expect(logs).toEqual({ code: 0, stdout: 'working\n', stderr: 'disk full\n' });
    const only = await runCli(url, ['step', 'logs', 'logs-fail', String(iid), 'run', '--stream', 'stderr']);
    expect(only).toEqual({ code: 0, stdout: '', stderr: 'disk full\n' });
    // A failed step followed to its end: exit 1, saying how it ended.
    const followed = await runCli(url, ['step', 'logs', 'logs-fail', String(iid), 'run', '--follow', '--interval', '50']);
    expect(followed).toEqual({ code: 1, stdout: 'working\n', stderr: 'disk full\nbaton: step run attempt 1 ended USER_FAILED\n' });
  });

  it('logs --follow prints output as the step prints it and exits 0 when it succeeds', async () => {
    const iid = await start('logs-live');
    await waitForStep(s, 'logs-live', iid, 'run', 'RUNNING');
    const following = runCli(url, ['step', 'logs', 'logs-live', String(iid), 'run', '--follow', '--stream', 'stdout', '--interval', '50']);
    // The first line is readable while the step still runs.
    for (let i = 0; ; i++) {
      const page = (await send('GET', `/api/v3/workflows/logs-live/instances/${iid}/runs/latest/steps/run/attempts/latest/logs`)).json();
      if (page.text === 'started\n') {
        expect(page).toMatchObject({ status: 'RUNNING', complete: false });
        break;
      }
      if (i > 200) throw new Error(`no output while running: ${JSON.stringify(page)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await writeFile(path.join(work, 'go'), '');
    expect(await following).toEqual({ code: 0, stdout: 'started\nfinished\n', stderr: 'baton: step run attempt 1 ended SUCCEEDED\n' });
    const json = await runCli(url, ['step', 'logs', 'logs-live', String(iid), 'run', '--json']);
    const pages = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { stream: string; text: string });
    expect(pages.map((p) => [p.stream, p.text])).toEqual([['stdout', 'started\nfinished\n'], ['stderr', 'bye\n']]);
  });

  it('refuses wrong command lines with exit 2 and names a missing step with exit 1', async () => {
    expect((await runCli(url, ['step', 'logs', 'logs-fail', '1', 'run', '--stream', 'stdin'])).code).toBe(2);
    expect((await runCli(url, ['step', 'show', 'logs-fail', '1', 'run', '--follow'])).code).toBe(2);
    expect((await runCli(url, ['step', 'show', 'logs-fail', '1', 'run', '--attempt', 'x'])).code).toBe(2);
    expect((await runCli(url, ['step', 'skip', 'logs-fail', '1', 'run', '--stream', 'stdout'])).code).toBe(2);
    const missing = await runCli(url, ['step', 'show', 'logs-fail', '1', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('step nope of logs-fail instance 1 has no attempt');
  });
});
