import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from '../../packages/server/test/helpers/service-app.js';
import { HOSTILE_SEL } from './sel-catalogue.js';

/**
 * The bad-input catalogue against the whole service (every route plugin, engine, signals,
 * scheduler) on in-memory PGlite: each hostile request is a clear 4xx problem document naming
 * the field, nothing is stored, and the service stays healthy. SEL that loops or allocates in a
 * workflow param fails its run with a limit message instead. The raw-bytes cases go over a real
 * socket to a spawned `baton serve` in bad-input-socket.test.ts.
 */
const JSON_TYPE = { 'content-type': 'application/json' };
const TABLES = ['baton_workflows', 'baton_workflow_versions', 'baton_workflow_instances', 'signal_names', 'signal_instances'] as const;

let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n);
  return out;
}

interface Problem {
  status: number;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

/** Sends the request and checks: the status, a problem document naming `field`, no row stored, still ready. */
async function refused(req: { method?: 'POST' | 'GET' | 'PUT'; url: string; payload?: string | Buffer; headers?: Record<string, string> }, status: number, field?: string): Promise<Problem> {
  const before = await counts();
  const res = await s.app.inject({ method: req.method ?? 'POST', url: req.url, headers: req.headers ?? JSON_TYPE, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
  expect(res.statusCode, res.body.slice(0, 500)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = res.json<Problem>();
  expect(problem.status).toBe(status);
  if (field !== undefined) expect(problem.errors?.map((e) => e.field), problem.detail).toContain(field);
  expect(await counts()).toEqual(before);
  expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  return problem;
}

function workflow(extra: Record<string, unknown> = {}, params: Record<string, unknown> = {}): string {
  return JSON.stringify({ properties: { owner: 'tester' }, workflow: { id: 'hostile-wf', params, steps: [{ step: { id: 's1', type: 'NoOp' } }], ...extra } });
}

const deepArray = (n: number): string => '['.repeat(n) + ']'.repeat(n);

describe('oversized bodies', () => {
  it('answers 413 for a signal publish over its 8 MiB limit', async () => {
    const p = await refused({ url: '/api/v3/signals', payload: JSON.stringify({ name: 'a', payload: 'x'.repeat(9 * 1024 * 1024) }) }, 413);
    expect(p.detail).toContain('8388608');
  });
  it('answers 413 for a workflow definition over its 4 MiB limit', async () => {
    await refused({ url: '/api/v3/workflows', payload: JSON.stringify({ workflow: { id: 'big', description: 'x'.repeat(5 * 1024 * 1024) } }) }, 413);
  });
  it('answers 413 for a YAML definition and a CloudEvent over their limits', async () => {
    await refused({ url: '/api/v3/workflows/yaml', headers: { 'content-type': 'application/yaml' }, payload: `Workflow:\n  id: big\n  description: ${'x'.repeat(5 * 1024 * 1024)}\n` }, 413);
    await refused({ url: '/api/v3/cloudevents', headers: { 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify({ specversion: '1.0', id: '1', source: 's', type: 't', data: { x: 'x'.repeat(9 * 1024 * 1024) } }) }, 413);
  });
});

describe('JSON nested 10,000 levels deep', () => {
  it('is a 400 on every JSON route, without a stack overflow', async () => {
    await refused({ url: '/api/v3/signals', payload: `{"name":"a","payload":${deepArray(10_000)}}` }, 400, 'body');
    await refused({ url: '/api/v3/signals', payload: `{"name":"a","params":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}` }, 400, 'body');
    await refused({ url: '/api/v3/workflows', payload: `{"workflow":{"id":"d","params":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}` }, 400, 'body');
    await refused({ url: '/api/v3/workflows/validate', payload: deepArray(10_000) }, 400, 'body');
    await refused({ url: '/api/v3/cloudevents', headers: { 'content-type': 'application/cloudevents+json' }, payload: `{"specversion":"1.0","id":"1","source":"s","type":"t","data":${deepArray(10_000)}}` }, 400, 'body');
  });
  it('is a 400 for run params of a start', async () => {
    expect((await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: workflow() })).statusCode).toBe(200);
    await refused({ url: '/api/v3/workflows/hostile-wf/versions/latest/actions/start', payload: `{"run_params":{"x":${deepArray(10_000)}}}` }, 400, 'body');
  });
});

describe('invalid UTF-8', () => {
  const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  it('in a signal name or param is a 400, never stored with replacement characters', async () => {
    const p = await refused({ url: '/api/v3/signals', payload: bytes('{"name":"db/', [0xff, 0xfe], '/orders"}') }, 400, 'body');
    expect(p.detail).toContain('UTF-8');
    // A lone surrogate encoded as UTF-8 (CESU) and a truncated sequence.
    await refused({ url: '/api/v3/signals', payload: bytes('{"name":"a","params":{"k":"', [0xed, 0xa0, 0x80], '"}}') }, 400, 'body');
    await refused({ url: '/api/v3/signals', payload: bytes('{"name":"a', [0xc3], '"}') }, 400, 'body');
  });
  it('in a workflow definition or a CloudEvent is a 400', async () => {
    await refused({ url: '/api/v3/workflows', payload: bytes('{"workflow":{"id":"u', [0xff], '","steps":[{"step":{"id":"s","type":"NoOp"}}]}}') }, 400, 'body');
    await refused({ url: '/api/v3/cloudevents', headers: { 'content-type': 'application/cloudevents+json' }, payload: bytes('{"specversion":"1.0","id":"1","source":"s","type":"t', [0xff], '"}') }, 400, 'body');
  });
});

describe('strings the database cannot store', () => {
  it('U+0000 or a lone surrogate anywhere in a signal or CloudEvent is a 400 naming the field (was a 500; found by schemathesis)', async () => {
    await refused({ url: '/api/v3/signals', payload: '{"name":"a","params":{"k":"x\\u0000y"}}' }, 400, 'params.k');
    await refused({ url: '/api/v3/signals', payload: '{"name":"a","payload":{"deep":["ok","\\ud94e"]}}' }, 400, 'payload.deep[1]');
    await refused({ url: '/api/v3/signals', payload: '{"name":"a","request_id":"\\u0000"}' }, 400, 'request_id');
    await refused({ url: '/api/v3/signals', payload: '{"name":"a","extra\\u0000key":1}' }, 400, 'body');
    await refused({ url: '/api/v3/cloudevents', headers: { 'content-type': 'application/cloudevents+json' }, payload: '{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"k":"\\udc00"}}' }, 400, 'data.k');
    // A proper surrogate pair is an ordinary character.
    const ok = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: JSON_TYPE, payload: '{"name":"emoji","params":{"k":"\\ud83d\\udca5"}}' });
    expect(ok.statusCode, ok.body).toBe(200);
  });
});

describe('YAML alias bombs', () => {
  it('"billion laughs" is refused quickly as a 400 naming the body', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const t0 = performance.now();
    const p = await refused({ url: '/api/v3/workflows/yaml', headers: { 'content-type': 'application/yaml' }, payload: `${lines.join('\n')}\nWorkflow:\n  id: bomb\n  tags: *j\n` }, 400, 'body');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(p.detail).toMatch(/alias/i);
  });
});

describe('time triggers that cannot work', () => {
  it('a cron matching no calendar date (0 0 30 2 *) is a 400 naming the cron', async () => {
    const p = await refused({ url: '/api/v3/workflows', payload: workflow({ id: 'never-fires', time_triggers: [{ type: 'CRON', cron: '0 0 30 2 *', timezone: 'UTC' }] }) }, 400, 'workflow.time_triggers[0].cron');
    expect(p.detail).toContain('never fire');
    await refused({ url: '/api/v3/workflows', payload: workflow({ id: 'never-fires', time_triggers: [{ type: 'CRON', cron: '0 0 31 4 *' }] }) }, 400, 'workflow.time_triggers[0].cron');
  });
  it('an unknown time zone is a 400 naming the timezone', async () => {
    await refused({ url: '/api/v3/workflows', payload: workflow({ id: 'bad-zone', time_triggers: [{ type: 'CRON', cron: '0 0 * * *', timezone: 'Mars/Olympus_Mons' }] }) }, 400, 'workflow.time_triggers[0].timezone');
  });
});

describe('signal names with path tricks', () => {
  const bad: Array<[string, string]> = [
    ['../', 'empty path segments'],
    ['%2e%2e/', 'empty path segments'],
    ['a//b', 'empty path segments'],
    ['/etc/passwd', 'empty path segments'],
    ['a\u0000b', 'U+0000'],
    ['a\u001b[2Jb', 'control characters'],
    ['a\u0085b', 'control characters'],
    ['x'.repeat(513), 'at most 512'],
  ];
  for (const [name, why] of bad) {
    it(`refuses ${JSON.stringify(name.slice(0, 20))} (${why})`, async () => {
      const p = await refused({ url: '/api/v3/signals', payload: JSON.stringify({ name }) }, 400, 'name');
      expect(p.detail).toContain(why);
    });
  }
  it('keeps names that only look like paths as opaque keys, read back exactly and never decoded', async () => {
    for (const name of ['../etc/passwd', '%2e%2e/x', 'a/./b']) {
      const pub = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: JSON_TYPE, payload: JSON.stringify({ name, params: { k: 'v' } }) });
      expect(pub.statusCode, pub.body).toBe(200);
      const got = await s.app.inject({ url: `/api/v3/signals/${encodeURIComponent(name)}/instances/latest` });
      expect(got.statusCode, got.body).toBe(200);
      expect(got.json<{ name: string }>().name).toBe(name);
    }
    // An encoded `../` in a lookup is a name like any other: not found, not a file.
    const probe = await s.app.inject({ url: '/api/v3/signals/..%2F..%2F..%2Fetc%2Fshadow/instances/latest' });
    expect(probe.statusCode).toBe(404);
    expect(probe.headers['content-type']).toMatch(/^application\/problem\+json/);
    const nul = await s.app.inject({ url: '/api/v3/signals/a%00b/instances' });
    expect(nul.statusCode).toBe(400);
    // The web pages' lineage view takes the name from the query string (was a 500; found by schemathesis).
    await refused({ method: 'GET', url: '/api/v3/ui/lineage?signal=%16%C3%B9', headers: {} }, 400, 'querystring.signal');
    await refused({ method: 'GET', url: '/api/v3/ui/lineage?signal=a%2F%2Fb', headers: {} }, 400, 'querystring.signal');
  });
});

describe('numbers beyond 64 bits in query strings', () => {
  it('an instance list cursor past the safe integer range is a 400 naming it (was a 500 from the database)', async () => {
    expect((await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: workflow() })).statusCode).toBe(200);
    for (const cursor of ['9650525953279705161094902191226880', '9007199254740992', '1e300']) {
      await refused({ method: 'GET', url: `/api/v3/workflows/hostile-wf/instances?cursor=${cursor}&limit=808&status=TIMED_OUT`, headers: {} }, 400, 'querystring.cursor');
    }
  });
});

describe('SQL-looking input', () => {
  it('is stored verbatim and harmless: it round-trips exactly and every table still exists', async () => {
    const name = "db/'; DROP TABLE signal_instances; --";
    const params = { q: "'; DROP TABLE signal_instances; --", r: "Robert'); DROP TABLE baton_workflows;--", s: '1 OR 1=1', t: '$1; SELECT pg_sleep(10)' };
    const pub = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: JSON_TYPE, payload: JSON.stringify({ name, params, payload: { note: "'); DELETE FROM signal_names; --" } }) });
    expect(pub.statusCode, pub.body).toBe(200);
    const got = await s.app.inject({ url: `/api/v3/signals/${encodeURIComponent(name)}/instances/latest` });
    expect(got.statusCode, got.body).toBe(200);
    const inst = got.json<{ name: string; params: Record<string, unknown>; payload: unknown }>();
    expect(inst.name).toBe(name);
    expect(inst.params).toEqual(params);
    expect(inst.payload).toEqual({ note: "'); DELETE FROM signal_names; --" });
    const filtered = await s.app.inject({ url: `/api/v3/signals/${encodeURIComponent(name)}/instances?param.q=${encodeURIComponent(params.q)}` });
    expect(filtered.json<{ instances: unknown[] }>().instances).toHaveLength(1);

    const wfId = "wf'; DROP TABLE baton_workflow_versions; --";
    const push = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: workflow({ id: wfId, description: "'; TRUNCATE baton_workflows; --" }) });
    // Workflow ids have their own character rules: either refused by name or stored verbatim.
    if (push.statusCode === 200) {
      const v = await s.app.inject({ url: `/api/v3/workflows/${encodeURIComponent(wfId)}/versions/latest` });
      expect(v.json<{ workflow_id: string }>().workflow_id).toBe(wfId);
    } else {
      expect(push.statusCode).toBe(400);
      expect(push.json<Problem>().errors?.map((e) => e.field)).toContain('workflow.id');
    }
    for (const t of TABLES) expect((await s.db.query(`SELECT to_regclass($1) AS t`, [t])).rows[0]).toEqual({ t });
    expect((await counts()).signal_instances).toBeGreaterThan(0);
  });
});

describe('hostile SEL in workflow params', () => {
  it('a source over 10,000 characters is a 400 naming the param expression', async () => {
    const p = await refused({ url: '/api/v3/workflows', payload: workflow({ id: 'huge-sel' }, { p: { expression: `return ${'1+'.repeat(6000)}1;`, type: 'LONG' } }) }, 400, 'workflow.params.p.expression');
    expect(p.detail).toContain('source length limit');
  });

  const runaway: Array<[string, string]> = [
    ['while(true){}', 'loops forever'],
    ["s = 'ab'; while (true) { s = s + s; } return s;", 'doubles a string'],
    ['m = new HashMap(); for (int i = 0; i < 100000000; i += 1) { m.put(String.valueOf(i), i); } return 1;', 'fills a map'],
  ];
  for (const [expression, what] of runaway) {
    it(`a param that ${what} fails its run with a limit message; the service stays healthy`, async () => {
      const id = `runaway-${what.replace(/\W+/g, '-')}`;
      const push = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: workflow({ id }, { p: { expression, type: 'STRING' } }) });
      expect(push.statusCode, push.body).toBe(200);
      const t0 = performance.now();
      const before = await counts();
      const start = await s.app.inject({ method: 'POST', url: `/api/v3/workflows/${id}/versions/latest/actions/start`, headers: JSON_TYPE, payload: '{}' });
      if (start.statusCode === 400) {
        // Refused at start, when params are evaluated before anything runs: a problem naming the
        // params and no instance stored.
        expect(start.headers['content-type']).toMatch(/^application\/problem\+json/);
        const p = start.json<Problem>();
        expect(p.errors?.map((e) => e.field)).toContain('run_params');
        expect(p.detail).toMatch(/limit/);
        expect(await counts()).toEqual(before);
      } else {
        expect(start.statusCode, start.body).toBe(200);
        const status = await waitForEnd(id);
        expect(status.status).toBe('FAILED');
        expect(JSON.stringify(status)).toMatch(/limit/);
      }
      expect(performance.now() - t0).toBeLessThan(20_000);
      expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(200);
      const ok = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: JSON_TYPE, payload: JSON.stringify({ name: 'still/alive', params: { what } }) });
      expect(ok.statusCode).toBe(200);
    }, 30_000);
  }
});

async function waitForEnd(id: string): Promise<{ status: string; reason?: string | null }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await s.app.inject({ url: `/api/v3/workflows/${id}/instances/1/runs/latest` });
    if (r.statusCode === 200) {
      const run = r.json<{ status: string; reason?: string | null }>();
      if (['FAILED', 'SUCCEEDED', 'STOPPED', 'TIMED_OUT'].includes(run.status)) return run;
    }
    if (Date.now() > deadline) throw new Error(`instance 1 of ${id} did not end within 20 s (last answer: HTTP ${r.statusCode} ${r.body.slice(0, 300)})`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Every string inside a JSON answer, one a line: what its messages say, unescaped. */
const texts = (v: unknown): string => (typeof v === 'string' ? v : v !== null && typeof v === 'object' ? Object.values(v).map(texts).join('\n') : '');

describe('the hostile SEL catalogue as workflow params (issue 15)', () => {
  for (const h of HOSTILE_SEL) {
    it(`${h.name}: ${h.atCheck ? 'refused at push' : h.outcome === 'ok' ? 'the run succeeds' : 'the push (dry run) or the run fails with the reason'}, quickly; the service stays healthy`, async () => {
      const id = `hostile-${h.name.replace(/\W+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}`;
      const payload = workflow({ id }, { p: { expression: h.source, type: 'STRING' } });
      const t0 = performance.now();
      if (h.atCheck) {
        const p = await refused({ url: '/api/v3/workflows', payload }, 400, 'workflow.params.p.expression');
        expect(texts(p)).toMatch(h.matches);
        return;
      }
      const push = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload });
      if (push.statusCode === 400 && h.outcome !== 'ok') {
        // The push's dry run evaluates the param (as Maestro's does): a program that fails within
        // the dry run's time is refused there, naming the param and the reason.
        const p = push.json<Problem>();
        expect(p.errors?.map((e) => e.field)).toEqual(['workflow.params.p']);
        expect(texts(p)).toMatch(h.matches);
        expect(performance.now() - t0).toBeLessThan(15_000);
        return;
      }
      expect(push.statusCode, push.body).toBe(200);
      const start = await s.app.inject({ method: 'POST', url: `/api/v3/workflows/${id}/versions/latest/actions/start`, headers: JSON_TYPE, payload: '{}' });
      if (start.statusCode === 400) {
        // Params evaluated at start: the error is the start's answer, naming the params.
        expect(h.outcome).not.toBe('ok');
        const p = start.json<Problem>();
        expect(p.errors?.map((e) => e.field)).toContain('run_params');
        expect(texts(p)).toMatch(h.matches);
      } else {
        expect(start.statusCode, start.body).toBe(200);
        const run = await waitForEnd(id);
        expect(run.status, JSON.stringify(run)).toBe(h.outcome === 'ok' ? 'SUCCEEDED' : 'FAILED');
        if (h.outcome !== 'ok') expect(texts(run)).toMatch(h.matches);
      }
      expect(performance.now() - t0).toBeLessThan(15_000);
      expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    }, 30_000);
  }
});
