import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../setup/infra.js';
import { sleep, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from '../../packages/server/test/helpers/baton-process.js';

/**
 * Hostile SEL never stalls the server (issue 15): a real `baton serve` (a separate process, on
 * PGlite and, when the test infrastructure has it, PostgreSQL) runs workflows whose params run
 * hostile programs, with a 500 ms wall-clock limit. `/healthz` is polled every 100 ms throughout
 * and must answer every time within 1 s; every run must end: FAILED naming the limit it reached
 * (the wall clock, or the steps budget that library work is charged to), or — the issue's
 * catastrophic-backtracking regexes, which the linear-time engine now answers at once — SUCCEEDED
 * within seconds. Then the
 * server is killed (SIGKILL) while a hostile run is being evaluated, started again on the same
 * database, and the run it picks up still ends FAILED while `/healthz` keeps answering.
 */
const LIMIT_MS = 500;
const LIMIT_TEXT = `exceeded the wall-clock limit of ${LIMIT_MS} ms`;
const TOKEN = 'sel-isolation-admin-token-0123456789';

const a = (n: number): string => 'a'.repeat(n);
/** SEL sources (Java string literals: `\\w` in SEL is the regex `\w`). */
const HOSTILE: Record<string, string> = {
  'steps-100m': 'long s = 0; for (int i = 0; i < 25000; i = i + 1) { for (int j = 0; j < 4000; j = j + 1) { s = s + 1; } } return s;',
  'contains-8mb': "String s = 'a'; for (int i = 0; i < 23; i = i + 1) { s = s + s; } long n = 0; for (int i = 0; i < 25000; i = i + 1) { if (s.contains('b')) { n = n + 1; } } return n;",
  'regex-a-or-a': `return '${a(29)}!'.replaceAll('(a|a)*$', 'x');`,
  'regex-a-or-aa': `return '${a(60)}!'.replaceAll('(a|aa)*$', 'x');`,
  'regex-word-or-digit': `return '${'1'.repeat(40)}!'.replaceAll('(\\\\w|\\\\d)+$', 'x');`,
  'regex-stacked-wildcards': "String s = 'x'; for (int i = 0; i < 12; i = i + 1) { s = s + s; } return s.replaceAll('.*.*.*=', 'y');",
  'regex-repeated-group': `return String.join(',', '${a(40)}'.split('(.*a){20}b'));`,
  // a*b|a over 128K characters: a quadratic find-all even on a linear-time engine; only a limit ends it.
  'regex-quadratic': "String s = 'a'; for (int i = 0; i < 17; i = i + 1) { s = s + s; } return s.replaceAll('a*b|a', 'x');",
};
/** Programs that can only end at a limit; the regexes of the list may now simply succeed. */
const MUST_FAIL = new Set(['steps-100m', 'contains-8mb', 'regex-quadratic']);
const LIMIT_REASON = new RegExp(`${LIMIT_TEXT}|limit`);
/** 4,000 terms: refused when compiled (at push) as too deeply nested, or failing its run. */
const DEEP = `${Array.from({ length: 4000 }, () => '1').join(' + ')};`;

type Params = Record<string, { expression: string; type: string }>;

function workflow(id: string, opts: { stepParams?: Params; workflowParams?: Params; steps?: number }): unknown {
  const steps = Array.from({ length: opts.steps ?? 1 }, (_, i) => ({ step: { id: `s${i}`, type: 'NoOp', params: opts.stepParams ?? {} } }));
  return { properties: { owner: 'tester' }, workflow: { id, params: opts.workflowParams ?? {}, steps } };
}

interface Probe {
  samples: number[];
  failures: string[];
  stop(): Promise<void>;
}

/** GET /healthz every 100 ms; each answer's latency is kept, a failure or a slow answer recorded. */
function probeHealth(url: () => string | undefined): Probe {
  const samples: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const base = url();
      if (base) {
        const t0 = performance.now();
        try {
          const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
          await res.text();
          const ms = performance.now() - t0;
          samples.push(ms);
          if (res.status !== 200) failures.push(`status ${res.status}`);
          if (ms >= 1000) failures.push(`answered in ${ms.toFixed(0)} ms at ${new Date().toISOString()}`);
        } catch (e) {
          failures.push(`no answer: ${(e as Error).message}`);
        }
      }
      await sleep(100);
    }
  })();
  return {
    samples,
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The parts of REST answers this test reads. */
interface Answer {
  workflow_instance_id?: number;
  status?: string;
  reason?: string | null;
  steps?: Array<{ reason?: string | null }>;
}

async function api(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: Answer }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Answer };
}

async function push(base: string, def: unknown): Promise<{ status: number; json: Answer }> {
  return api(base, 'POST', '/api/v3/workflows', def);
}

async function start(base: string, id: string): Promise<number> {
  const r = await api(base, 'POST', `/api/v3/workflows/${id}/versions/active/actions/start`, {});
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json.workflow_instance_id!;
}

async function run(base: string, id: string, instance: number): Promise<Answer> {
  const r = await api(base, 'GET', `/api/v3/workflows/${id}/instances/${instance}/runs/latest`);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

/** Polls the run until it is terminal; returns it. */
async function settled(base: () => string, id: string, instance: number, timeoutMs = 60_000): Promise<Answer> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await run(base(), id, instance);
    if (['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(r.status ?? '')) return r;
    if (performance.now() > deadline) throw new Error(`${id}/${instance} still ${r.status} after ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** Every reason in the run: the instance's and its steps'. */
function reasons(r: Answer): string {
  return [r.reason, ...(r.steps ?? []).map((s) => s.reason)].filter(Boolean).join(' | ');
}

// PostgreSQL comes from the test infrastructure (BATON_TEST_COMPONENTS=postgres), as in every test that needs it.
describe.each(['pglite', 'postgres'])('hostile SEL on %s', (name) => {
  let dir: { path: string; remove(): Promise<void> };
  let database: Database | undefined;
  let env: Record<string, string>;
  let baton: BatonProcess | undefined;
  let url: string | undefined;

  const launch = async (): Promise<void> => {
    baton = spawnBaton(env);
    await waitUntilReady(baton, 90_000);
    url = await baton.ready;
  };

  beforeAll(async () => {
    dir = await tempDir('baton-sel-isolation-');
    database = name === 'postgres' ? await createTestDatabase() : undefined;
    env = {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      BATON_SEL_TIMEOUT: `${LIMIT_MS}ms`,
      BATON_TOKENS: `tester:admin:${TOKEN}`,
      ...(database ? { DATABASE_URL: database.url } : { BATON_DATA_DIR: path.join(dir.path, 'data') }),
    };
    await launch();
  }, 120_000);

  afterAll(async () => {
    if (baton) await stop(baton);
    await database?.drop();
    await dir?.remove();
  });

  it('every hostile program ends (at a limit, named, or answered at once by the linear-time regex engine) while /healthz answers within 1 s', async () => {
    const probe = probeHealth(() => url);
    try {
      const runs: Array<{ id: string; instance: number }> = [];
      for (const [key, source] of Object.entries(HOSTILE)) {
        const id = `hostile-${key}`;
        const pushed = await push(url!, workflow(id, { stepParams: { p: { expression: source, type: 'STRING' } } }));
        expect(pushed.status, `${key}: ${JSON.stringify(pushed.json)}`).toBe(200);
        runs.push({ id, instance: await start(url!, id) });
      }
      // A workflow param, evaluated when the run starts.
      const wfId = 'hostile-workflow-param';
      expect((await push(url!, workflow(wfId, { workflowParams: { w: { expression: HOSTILE['steps-100m']!, type: 'LONG' } } }))).status).toBe(200);
      const wfInstance = await start(url!, wfId);
      const wfDone = await settled(() => url!, wfId, wfInstance);
      expect(wfDone.status, reasons(wfDone)).toBe('FAILED');
      expect(reasons(wfDone)).toContain(`evaluation of param w ${LIMIT_TEXT}`);

      const deep = await push(url!, workflow('hostile-deep-nesting', { stepParams: { p: { expression: DEEP, type: 'LONG' } } }));
      if (deep.status === 200) runs.push({ id: 'hostile-deep-nesting', instance: await start(url!, 'hostile-deep-nesting') });
      else {
        expect(deep.status).toBe(400);
        expect(JSON.stringify(deep.json)).toMatch(/limit|nest/i);
      }

      for (const r of runs) {
        const done = await settled(() => url!, r.id, r.instance);
        const key = r.id.replace(/^hostile-/, '');
        if (r.id === 'hostile-deep-nesting') {
          expect(done.status, `${r.id}: ${reasons(done)}`).toBe('FAILED');
          expect(reasons(done)).toMatch(/limit|nest/i);
        } else if (MUST_FAIL.has(key)) {
          expect(done.status, `${r.id}: ${reasons(done)}`).toBe('FAILED');
          expect(reasons(done)).toMatch(/param p/);
          expect(reasons(done)).toMatch(LIMIT_REASON);
        } else if (done.status !== 'SUCCEEDED') {
          // A catastrophic-backtracking shape: answered at once by the linear-time engine, else a limit.
          expect(done.status, `${r.id}: ${reasons(done)}`).toBe('FAILED');
          expect(reasons(done)).toMatch(LIMIT_REASON);
        }
      }
    } finally {
      await probe.stop();
    }
    console.log(`[${name}] /healthz during the hostile runs: ${probe.samples.length} answers, slowest ${Math.max(...probe.samples).toFixed(0)} ms`);
    expect(probe.failures).toEqual([]);
    expect(probe.samples.length).toBeGreaterThanOrEqual(5);
  }, 150_000);

  it('a run picked up after a kill -9 mid-evaluation still ends FAILED, and /healthz keeps answering', async () => {
    const id = 'hostile-restart';
    // Four parallel steps, each a quadratic regex search: the pool (2 workers) is busy for a while.
    const source = HOSTILE['regex-quadratic']!;
    expect((await push(url!, workflow(id, { steps: 4, stepParams: { p: { expression: source, type: 'STRING' } } }))).status).toBe(200);
    const instance = await start(url!, id);
    for (let i = 0; ; i++) {
      const r = await run(url!, id, instance);
      if (r.status === 'IN_PROGRESS') break;
      expect(i, `run did not start: ${r.status}`).toBeLessThan(200);
      await sleep(25);
    }
    baton!.child.kill('SIGKILL');
    await baton!.exited;
    url = undefined;
    await launch();
    const probe = probeHealth(() => url);
    let done: Answer;
    try {
      done = await settled(() => url!, id, instance, 90_000);
    } finally {
      await probe.stop();
    }
    expect(done.status, reasons(done)).toBe('FAILED');
    expect(reasons(done)).toMatch(/param p/);
    expect(reasons(done)).toMatch(LIMIT_REASON);
    console.log(`[${name}] /healthz after the restart: ${probe.samples.length} answers, slowest ${Math.max(...probe.samples).toFixed(0)} ms`);
    expect(probe.failures).toEqual([]);
    expect(probe.samples.length).toBeGreaterThan(5);
  }, 150_000);
});
