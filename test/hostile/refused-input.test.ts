import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from '../../packages/server/test/helpers/service-app.js';
import { repoRoot } from '../../scripts/infra/paths.js';

/**
 * Input that used to be stored although it could never run, or answered 500: each is now a 400
 * problem document naming the field (nothing stored), and `validate` says the same as push.
 */
const JSON_TYPE = { 'content-type': 'application/json' };
const YAML_TYPE = { 'content-type': 'application/yaml' };

let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

interface Problem {
  status: number;
  title: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

async function versions(): Promise<number> {
  return Number((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_workflow_versions')).rows[0]!.n);
}

async function refused(req: { method?: 'POST' | 'GET' | 'PUT'; url: string; payload?: string; headers?: Record<string, string> }, field: string): Promise<Problem> {
  const before = await versions();
  const res = await s.app.inject({ method: req.method ?? 'POST', url: req.url, headers: req.headers ?? JSON_TYPE, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
  expect(res.statusCode, res.body.slice(0, 500)).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = res.json<Problem>();
  expect(problem.errors?.map((e) => e.field), problem.detail).toContain(field);
  expect(await versions()).toBe(before);
  return problem;
}

async function validated(payload: string, headers = JSON_TYPE): Promise<{ valid: boolean; errors: Array<{ field: string; message: string }> }> {
  const res = await s.app.inject({ method: 'POST', url: headers === YAML_TYPE ? '/api/v3/workflows/validate/yaml' : '/api/v3/workflows/validate', headers, payload });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const wf = (steps: unknown[], params: Record<string, unknown> = {}) => JSON.stringify({ properties: { owner: 'tester' }, workflow: { id: 'hostile-types', params, steps } });

describe('push refuses what cannot run', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['Nope', 'an unknown step type', /^step 'x' has type Nope, which is not a step type Baton knows \(types with a runtime here: NoOp, Sleep, Http/],
    ['kubernetes', 'a Maestro type without a runtime here', /^step 'x' has type KUBERNETES, for which no runtime is registered in this Baton process/],
    ['Notebook', 'another Maestro type without a runtime here', /^step 'x' has type NOTEBOOK, for which no runtime is registered in this Baton process/],
  ];
  for (const [type, what, message] of cases) {
    it(`refuses ${what} (${type}) at push and validate, naming the step and the type`, async () => {
      const def = wf([{ step: { id: 'a', type: 'NoOp' } }, { step: { id: 'x', type } }]);
      const p = await refused({ url: '/api/v3/workflows', payload: def }, 'workflow.steps[1].type');
      expect(p.errors!.find((e) => e.field === 'workflow.steps[1].type')!.message).toMatch(message);
      const v = await validated(def);
      expect(v.valid).toBe(false);
      expect(v.errors).toEqual(p.errors);
    });
  }

  it('refuses a type without a runtime inside a foreach loop and in YAML', async () => {
    const def = JSON.stringify({ properties: { owner: 'tester' }, workflow: { id: 'hostile-loop', steps: [{ foreach: { id: 'loop', params: { loop_params: { value: { i: { value: [1, 2], type: 'LONG_ARRAY' } }, type: 'MAP' } }, steps: [{ step: { id: 'inner', type: 'Titus' } }] } }] } });
    const p = await refused({ url: '/api/v3/workflows', payload: def }, 'workflow.steps[0].steps[0].type');
    expect(p.detail).toContain("step 'inner' has type TITUS, for which no runtime is registered in this Baton process");
    const yaml = 'Workflow:\n  id: hostile-yaml-type\n  owner: tester\n  jobs:\n    - job:\n        id: k\n        type: kubernetes\n';
    const y = await refused({ url: '/api/v3/workflows/yaml', headers: YAML_TYPE, payload: yaml }, 'workflow.steps[0].type');
    expect(y.detail).toContain("step 'k' has type KUBERNETES");
    expect((await validated(yaml, YAML_TYPE)).valid).toBe(false);
  });

  it("refuses Maestro's Kubernetes and Notebook samples in this process (no runtime registered), accepting the rest", async () => {
    for (const file of ['sample-kubernetes-wf.json', 'sample-notebook-wf.json']) {
      const text = readFileSync(path.resolve(repoRoot, '../shared/maestro-samples', file), 'utf8');
      const p = await refused({ url: '/api/v3/workflows', payload: text }, p0Field(text));
      expect(p.detail).toMatch(/for which no runtime is registered in this Baton process/);
    }
    const ok = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: readFileSync(path.resolve(repoRoot, '../shared/maestro-samples', 'sample-dag-test-1.json'), 'utf8') });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('refuses an unknown param type in a definition (value kept out of the store)', async () => {
    await refused({ url: '/api/v3/workflows', payload: wf([{ step: { id: 'a', type: 'NoOp' } }], { p: { value: 1, type: 'NOPE' } }) }, 'workflow.params.p.type');
  });

  it('refuses an unknown param type in run params at start, naming the param (was stored as {"type":"NOPE"})', async () => {
    const push = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: wf([{ step: { id: 'a', type: 'NoOp' } }]) });
    expect(push.statusCode, push.body).toBe(200);
    const before = Number((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_workflow_instances')).rows[0]!.n);
    for (const bad of [{ value: 1, type: 'NOPE' }, { value: 1, type: 7 }]) {
      const res = await s.app.inject({ method: 'POST', url: '/api/v3/workflows/hostile-types/versions/latest/actions/start', headers: JSON_TYPE, payload: JSON.stringify({ run_params: { p: bad } }) });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const p = res.json<Problem>();
      expect(p.errors?.map((e) => e.field)).toContain('run_params');
      expect(p.detail).toMatch(/param p: unknown param type (?:"NOPE"|7); use STRING, LONG/);
    }
    expect(Number((await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_workflow_instances')).rows[0]!.n)).toBe(before);
  });
});

/** The field of the first step whose type has no runtime (NoOp and Sleep have one). */
function p0Field(text: string): string {
  const steps = (JSON.parse(text) as { workflow: { steps: Array<{ step?: { type: string } }> } }).workflow.steps;
  const i = steps.findIndex((s) => s.step && !['noop', 'sleep'].includes(s.step.type.toLowerCase()));
  return `workflow.steps[${i}].type`;
}

describe('the three 500s are 400s naming the field', () => {
  it('a self-referencing YAML alias (a: &a [*a, *a]) is refused, not a stack overflow', async () => {
    for (const payload of ['a: &a [*a, *a]\n', 'Workflow: &w\n  id: w\n  jobs: [*w]\n']) {
      const p = await refused({ url: '/api/v3/workflows/yaml', headers: YAML_TYPE, payload }, payload.startsWith('a') ? 'a[0]' : 'Workflow.jobs[0]');
      expect(p.detail).toContain('an alias refers to a node that contains it');
      expect((await validated(payload, YAML_TYPE)).valid).toBe(false);
    }
  });

  it('a YAML definition nested deeper than the limit is refused', async () => {
    const res = await s.app.inject({ method: 'POST', url: '/api/v3/workflows/yaml', headers: YAML_TYPE, payload: `a: ${'['.repeat(300)}${']'.repeat(300)}\n` });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json<Problem>().detail).toContain('nested deeper than 200 levels');
  });

  it('a signal list time outside 0001..9999 is refused naming from/to', async () => {
    for (const [q, field] of [['from=-99999999999999', 'querystring.from'], ['to=99999999999999999', 'querystring.to'], ['from=-271821-04-20T00:00:00Z', 'querystring.from'], ['from=10000-01-01T00:00:00Z', 'querystring.from']] as const) {
      const res = await s.app.inject({ url: `/api/v3/signals/x/instances?${q}` });
      expect(res.statusCode, `${q}: ${res.body}`).toBe(400);
      expect(res.json<Problem>().errors?.map((e) => e.field)).toContain(field);
    }
    expect((await s.app.inject({ url: '/api/v3/signals/x/instances?from=0&to=253402300799999' })).statusCode).toBe(200);
  });

  it('a request_time beyond 64 bits (1e300) is refused naming it', async () => {
    for (const payload of ['{"name":"a","request_time":1e300}', '{"name":"a","request_time":-9223372036854775809}', '{"name":"a","request_time":1e19}']) {
      const res = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: JSON_TYPE, payload });
      expect(res.statusCode, `${payload}: ${res.body}`).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json<Problem>().errors?.some((e) => e.field.endsWith('request_time'))).toBe(true);
    }
    const ok = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: JSON_TYPE, payload: '{"name":"a","request_time":9223372036854775807}' });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a signal list limit of 0 is outside the documented schema and refused by it', async () => {
    const res = await s.app.inject({ url: '/api/v3/signals/x/instances?limit=0' });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors?.map((e) => e.field).join(' ')).toMatch(/limit/);
  });

  it('a numeric query value that is not finite (1e400) is a 400 naming it on every route (was a 500 from the database)', async () => {
    const push = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: wf([{ step: { id: 'a', type: 'NoOp' } }]) });
    expect(push.statusCode, push.body).toBe(200);
    const cases: Array<[string, string]> = [
      ['/api/v3/workflows/hostile-types/instances?cursor=1e400', 'querystring.cursor'],
      ['/api/v3/workflows/hostile-types/instances?cursor=-1e400', 'querystring.cursor'],
      ['/api/v3/workflows/hostile-types/instances?limit=1e400', 'querystring.limit'],
      ['/api/v3/workflows/hostile-types/instances/1/rollup?run=1e400', 'querystring.run'],
    ];
    for (const [url, field] of cases) {
      const res = await s.app.inject({ url });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(400);
      expect(res.json<Problem>().errors?.map((e) => e.field)).toContain(field);
    }
  });
});

describe('unknown methods on known paths', () => {
  it('answer 405 with Allow and a problem document; unknown paths stay 404', async () => {
    for (const [method, url, allow] of [['PATCH', '/api/v3/signals', 'POST'], ['DELETE', '/api/v3/workflows/x/versions/1', 'GET, HEAD'], ['PUT', '/healthz', 'GET, HEAD']] as const) {
      const res = await s.app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json<Problem>().detail).toContain(`${method} is not allowed on ${url}`);
    }
    expect((await s.app.inject({ method: 'GET', url: '/api/v3/nothing-here' })).statusCode).toBe(404);
  });
});
