import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, startServiceApp, type ServiceApp } from './helpers/service-app.js';

let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp({ BATON_TIME_SCALE: '1' });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const send = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: string | object, type = 'application/json') =>
  s.app.inject({ method, url, ...(payload === undefined ? {} : { headers: { 'content-type': type }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }) });

async function waitForStatus(wf: string, iid: number, want: string[], ms = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await s.app.inject({ url: `/api/v3/workflows/${wf}/instances/${iid}/runs/latest` });
    const body = r.json() as Record<string, unknown>;
    if (want.includes(String(body.status))) return body;
    if (Date.now() > deadline) throw new Error(`instance ${wf}/${iid} still ${String(body.status)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function count(table: string): Promise<number> {
  const r = await s.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(r.rows[0]!.n);
}

function workflow(id: string, steps: object[], extra: object = {}) {
  return { properties: { owner: 'tester' }, workflow: { id, steps, ...extra } };
}
const noop = (id: string, successors: Record<string, string> = {}, extra: object = {}) => ({ step: { id, type: 'NoOp', transition: { successors }, ...extra } });

describe('workflow definitions and versions', () => {
  it('pushes a Maestro JSON sample, keeps an unchanged push as the same version, and makes a changed one the next', async () => {
    const r = await send('POST', '/api/v3/workflows', sample('sample-dag-test-1.json'));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ workflow_id: 'sample-dag-test-1', workflow_version_id: 1, created: true, active_version_id: 1, is_active: true });
    expect(r.json().definition.workflow.steps).toHaveLength(6);
    const again = await send('POST', '/api/v3/workflows', sample('sample-dag-test-1.json'));
    expect(again.json()).toMatchObject({ workflow_version_id: 1, created: false });
    const changed = JSON.parse(sample('sample-dag-test-1.json'));
    changed.workflow.description = 'changed';
    changed.is_active = false;
    const v2 = await send('POST', '/api/v3/workflows', changed);
    expect(v2.json()).toMatchObject({ workflow_version_id: 2, created: true, active_version_id: 1, is_active: false });

    expect((await send('GET', '/api/v3/workflows/sample-dag-test-1/versions/latest')).json()).toMatchObject({ workflow_version_id: 2, active_version_id: 1, is_active: false });
    expect((await send('GET', '/api/v3/workflows/sample-dag-test-1/versions/active')).json()).toMatchObject({ workflow_version_id: 1, is_active: true });
    expect((await send('GET', '/api/v3/workflows/sample-dag-test-1/versions/2')).json().definition.workflow.description).toBe('changed');
  });

  it('pushes the YAML DSL under each YAML media type', async () => {
    for (const type of ['application/yaml', 'text/yaml', 'application/x-yaml']) {
      const r = await send('POST', '/api/v3/workflows/yaml', sample('yaml/sample-http-wf.yaml'), type);
      expect(r.statusCode, type).toBe(200);
      expect(r.json()).toMatchObject({ workflow_id: 'sample-http-wf', workflow_version_id: 1 });
    }
    const got = await send('GET', '/api/v3/workflows/sample-http-wf/versions/1');
    expect(got.json().definition).toMatchObject({ properties: { owner: 'tester', run_strategy: 'PARALLEL' }, workflow: { params: { param0: { value: 15, type: 'LONG' } } } });
    const validated = await send('PUT', '/api/v3/workflows/actions/validate/yaml', sample('yaml/sample-http-wf.yaml'), 'application/yaml');
    expect(validated.json()).toEqual({ valid: true, workflow_id: 'sample-http-wf', errors: [] });
  });

  it('pushes every YAML sample and reads it back, untyped expression params included', async () => {
    for (const file of ['yaml/sample-conditional-wf.yaml', 'yaml/sample-http-wf.yaml']) {
      const r = await send('POST', '/api/v3/workflows/yaml', sample(file), 'application/yaml');
      expect(r.statusCode, `${file}: ${r.body}`).toBe(200);
      const id = r.json().workflow_id as string;
      const got = await send('GET', `/api/v3/workflows/${id}/versions/latest`);
      expect(got.statusCode, `${file}: ${got.body}`).toBe(200);
    }
  });

  it('activates and deactivates versions', async () => {
    expect((await send('PUT', '/api/v3/workflows/sample-dag-test-1/versions/2/actions/activate')).json()).toEqual({ workflow_id: 'sample-dag-test-1', active_version_id: 2 });
    expect((await send('GET', '/api/v3/workflows/sample-dag-test-1/versions/active')).json()).toMatchObject({ workflow_version_id: 2 });
    expect((await send('PUT', '/api/v3/workflows/sample-dag-test-1/actions/deactivate')).json()).toEqual({ workflow_id: 'sample-dag-test-1', active_version_id: null });
    const none = await send('GET', '/api/v3/workflows/sample-dag-test-1/versions/active');
    expect(none.statusCode).toBe(404);
    const start = await send('POST', '/api/v3/workflows/sample-dag-test-1/versions/active/actions/start', {});
    expect(start.statusCode).toBe(404);
    expect(start.headers['content-type']).toContain('application/problem+json');
    expect((await send('PUT', '/api/v3/workflows/sample-dag-test-1/versions/latest/actions/activate')).json()).toMatchObject({ active_version_id: 2 });
  });

  it('answers 404 problems for unknown workflows and versions', async () => {
    for (const [method, url] of [
      ['GET', '/api/v3/workflows/nope/versions/latest'],
      ['GET', '/api/v3/workflows/sample-dag-test-1/versions/9'],
      ['PUT', '/api/v3/workflows/nope/versions/1/actions/activate'],
      ['PUT', '/api/v3/workflows/nope/actions/deactivate'],
      ['POST', '/api/v3/workflows/nope/versions/latest/actions/start'],
      ['GET', '/api/v3/workflows/nope/instances'],
      ['GET', '/api/v3/workflows/sample-dag-test-1/instances/99/runs/latest'],
      ['GET', '/api/v3/workflows/sample-dag-test-1/instances/99/lineage'],
      ['PUT', '/api/v3/workflows/sample-dag-test-1/instances/99/actions/stop'],
      ['GET', '/api/v3/workflows/nope/time-triggers/preview'],
    ] as const) {
      const r = await send(method, url, method === 'GET' ? undefined : {});
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json()).toMatchObject({ status: 404, detail: expect.any(String) });
    }
  });

  it('keeps 64-bit integers exact', async () => {
    const text = JSON.stringify(workflow('big-numbers', [noop('a')], { params: { big: { value: 1, type: 'LONG' } } })).replace('"value":1', '"value":9223372036854775807');
    const r = await send('POST', '/api/v3/workflows', text);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('"value":9223372036854775807');
    expect((await send('GET', '/api/v3/workflows/big-numbers/versions/1')).body).toContain('9223372036854775807');
  });
});

describe('bad definitions are 400 problems naming the field, and store nothing', () => {
  const cases: Array<[string, string, string | object, string, RegExp]> = [
    ['malformed JSON', 'application/json', '{"workflow": {"id": "x", ', 'body', /malformed JSON/],
    ['malformed YAML', 'application/yaml', 'Workflow:\n  id: [unclosed\n', '', /./],
    ['a cycle', 'application/json', workflow('bad-cycle', [noop('a', { b: 'true' }), noop('b', { a: 'true' })]), 'workflow', /cycle/i],
    ['an unknown successor', 'application/json', workflow('bad-succ', [noop('a', { ghost: 'true' })]), 'workflow.steps[0].transition.successors.ghost', /unknown step/],
    ['invalid SEL', 'application/json', workflow('bad-sel', [noop('a')], { params: { p: { expression: 'return 1 +;', type: 'LONG' } } }), 'workflow.params.p', /./],
    ['a wrong param type', 'application/json', workflow('bad-type', [noop('a')], { params: { p: { value: 'abc', type: 'LONG' } } }), 'workflow.params.p', /./],
    ['a duplicate step id', 'application/json', workflow('bad-dup', [noop('a'), noop('a')]), 'workflow.steps[1]', /a/],
    ['a non-object body', 'application/json', '[1, 2]', 'body', /./],
  ];
  for (const [what, type, payload, field, message] of cases) {
    it(`rejects ${what}`, async () => {
      const before = [await count('baton_workflows'), await count('baton_workflow_versions')];
      const url = type === 'application/json' ? '/api/v3/workflows' : '/api/v3/workflows/yaml';
      const r = await send('POST', url, payload, type);
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      const problem = r.json() as { status: number; errors: Array<{ field: string; message: string }> };
      expect(problem.status).toBe(400);
      expect(problem.errors.length).toBeGreaterThan(0);
      expect(problem.errors.some((e) => e.field.startsWith(field) && message.test(e.message))).toBe(true);
      expect([await count('baton_workflows'), await count('baton_workflow_versions')]).toEqual(before);

      const validated = await send('POST', type === 'application/json' ? '/api/v3/workflows/validate' : '/api/v3/workflows/validate/yaml', payload, type);
      if (validated.statusCode === 200) expect(validated.json()).toMatchObject({ valid: false, errors: expect.arrayContaining([expect.objectContaining({ field: expect.stringMatching(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}`)) })]) });
      else expect(validated.statusCode).toBe(400);
      expect([await count('baton_workflows'), await count('baton_workflow_versions')]).toEqual(before);
    });
  }

  it('validates a good definition without storing it', async () => {
    const r = await send('POST', '/api/v3/workflows/validate', workflow('only-validated', [noop('a')]));
    expect(r.json()).toEqual({ valid: true, workflow_id: 'only-validated', errors: [] });
    expect((await send('GET', '/api/v3/workflows/only-validated/versions/latest')).statusCode).toBe(404);
  });
});

describe('instances', () => {
  it('starts once per request id, lists instances newest first, and reports run and step status', async () => {
    const url = '/api/v3/workflows/sample-dag-test-1/versions/active/actions/start';
    const a = await send('POST', url, { request_id: 'req-1', run_params: { foo: { value: 'given', type: 'STRING' } } });
    const b = await send('POST', url, { request_id: 'req-1' });
    expect(a.statusCode).toBe(200);
    expect(a.json()).toMatchObject({ workflow_id: 'sample-dag-test-1', workflow_version_id: 2, workflow_instance_id: 1, workflow_run_id: 1, duplicate: false });
    expect(b.json()).toMatchObject({ workflow_instance_id: 1, duplicate: true });
    const c = await send('POST', url, { request_id: 'req-2' });
    expect(c.json()).toMatchObject({ workflow_instance_id: 2, duplicate: false });
    const rows = await s.db.query<{ n: number | string }>(`SELECT count(*) AS n FROM baton_workflow_instances WHERE workflow_id = 'sample-dag-test-1'`);
    expect(Number(rows.rows[0]!.n)).toBe(2);

    const run = await waitForStatus('sample-dag-test-1', 1, ['SUCCEEDED', 'FAILED']);
    expect(run).toMatchObject({ status: 'SUCCEEDED', workflow_instance_id: 1, request_id: 'req-1', run_params: { foo: { type: 'STRING', value: 'given' } } });
    expect((run.steps as Array<{ step_id: string; status: string }>).map((x) => [x.step_id, x.status])).toEqual(['job.1', 'job.2', 'job.3', 'job.4', 'job.5', 'job.6'].map((id) => [id, 'SUCCEEDED']));
    await waitForStatus('sample-dag-test-1', 2, ['SUCCEEDED']);

    const list = await send('GET', '/api/v3/workflows/sample-dag-test-1/instances?limit=1');
    expect(list.json()).toMatchObject({ items: [{ workflow_instance_id: 2, status: 'SUCCEEDED' }], next_cursor: 2 });
    const older = await send('GET', '/api/v3/workflows/sample-dag-test-1/instances?limit=1&cursor=2');
    expect(older.json().items).toMatchObject([{ workflow_instance_id: 1 }]);

    const att = await send('GET', '/api/v3/workflows/sample-dag-test-1/instances/1/runs/1/steps/job.3/attempts/latest');
    expect(att.statusCode).toBe(200);
    const body = att.json();
    expect(body).toMatchObject({ step_id: 'job.3', step_attempt_id: 1, status: 'SUCCEEDED', step_type: 'NoOp', edges: { 'job.4': true } });
    expect(body.params.step_id).toEqual({ type: 'STRING', value: 'job.3' });
    expect(body.timeline.map((t: { to: string }) => t.to)).toEqual(expect.arrayContaining(['RUNNING', 'SUCCEEDED']));
    expect((await send('GET', '/api/v3/workflows/sample-dag-test-1/instances/1/runs/1/steps/job.3/attempts/1')).json().step_attempt_id).toBe(1);
    expect((await send('GET', '/api/v3/workflows/sample-dag-test-1/instances/1/runs/1/steps/ghost/attempts/latest')).statusCode).toBe(404);
  });

  it('rejects bad start requests', async () => {
    const url = '/api/v3/workflows/sample-dag-test-1/versions/latest/actions/start';
    const unknown = await send('POST', url, { request_idd: 'x' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].field).toContain('request_idd');
    const badVersion = await send('POST', '/api/v3/workflows/sample-dag-test-1/versions/zero/actions/start', {});
    expect(badVersion.statusCode).toBe(400);
    const badParams = await send('POST', '/api/v3/workflows/big-numbers/versions/latest/actions/start', { run_params: { big: 'not a number' } });
    expect(badParams.statusCode).toBe(400);
    expect(badParams.json().errors[0]).toMatchObject({ field: 'run_params', message: expect.stringContaining('big') });
  });

  it('stops a running instance', async () => {
    const push = await send('POST', '/api/v3/workflows', workflow('sleepy', [{ step: { id: 'nap', type: 'Sleep', params: { sleep_seconds: { value: 600, type: 'LONG' } }, transition: { successors: {} } } }]));
    expect(push.statusCode).toBe(200);
    const start = await send('POST', '/api/v3/workflows/sleepy/versions/latest/actions/start', {});
    const iid = start.json().workflow_instance_id as number;
    await waitForStatus('sleepy', iid, ['IN_PROGRESS']);
    const stop = await send('PUT', `/api/v3/workflows/sleepy/instances/${iid}/actions/stop`, { reason: 'test stop' });
    expect(stop.json()).toEqual({ workflow_id: 'sleepy', workflow_instance_id: iid, stopped: true, status: 'STOPPED' });
    const again = await send('PUT', `/api/v3/workflows/sleepy/instances/${iid}/actions/stop`, {});
    expect(again.json()).toMatchObject({ stopped: false, status: 'STOPPED' });
    const run = await waitForStatus('sleepy', iid, ['STOPPED']);
    expect(run.reason).toBe('test stop');
  });

  it('stops an instance whose step waits for a signal, and drops its waiter', async () => {
    const dep = { name: 'gate/never-yet', match_params: { day: { param: { value: '20500101', type: 'STRING' }, operator: '=' } } };
    const push = await send('POST', '/api/v3/workflows', workflow('gated', [noop('wait', {}, { signal_dependencies: [dep] })]));
    expect(push.statusCode).toBe(200);
    const iid = (await send('POST', '/api/v3/workflows/gated/versions/latest/actions/start', {})).json().workflow_instance_id as number;
    const step = { workflowId: 'gated', workflowInstanceId: iid, stepId: 'wait', attempt: 1 };
    const deadline = Date.now() + 10_000;
    while ((await s.services.signals.getWaiter(step))?.status !== 'WAITING') {
      if (Date.now() > deadline) throw new Error('the step never waited');
      await new Promise((r) => setTimeout(r, 50));
    }
    const att = await send('GET', `/api/v3/workflows/gated/instances/${iid}/runs/latest/steps/wait/attempts/latest`);
    expect(att.json().status).toBe('WAITING_FOR_SIGNALS');
    expect((await send('PUT', `/api/v3/workflows/gated/instances/${iid}/actions/stop`, {})).json()).toMatchObject({ stopped: true, status: 'STOPPED' });
    expect((await s.services.signals.getWaiter(step))?.status).toBe('CANCELLED');
    const signal = await send('POST', '/api/v3/signals', { name: 'gate/never-yet', params: { day: '20500101' } });
    expect(signal.statusCode).toBe(200);
    await s.services.signals.drain();
    const lineage = await send('GET', `/api/v3/workflows/gated/instances/${iid}/lineage`);
    expect(lineage.json().edges).toEqual([]);
  });

  it('skips a step that waits for a signal: its waiter goes, the run goes on, a later signal unblocks nothing', async () => {
    const dep = { name: 'gate/skipped', match_params: { day: { param: { value: '20500101', type: 'STRING' }, operator: '=' } } };
    const push = await send('POST', '/api/v3/workflows', workflow('gated-skip', [noop('wait', { after: 'true' }, { signal_dependencies: [dep] }), noop('after')]));
    expect(push.statusCode).toBe(200);
    const iid = (await send('POST', '/api/v3/workflows/gated-skip/versions/latest/actions/start', {})).json().workflow_instance_id as number;
    const step = { workflowId: 'gated-skip', workflowInstanceId: iid, stepId: 'wait', attempt: 1 };
    const deadline = Date.now() + 10_000;
    while ((await s.services.signals.getWaiter(step))?.status !== 'WAITING') {
      if (Date.now() > deadline) throw new Error('the step never waited');
      await new Promise((r) => setTimeout(r, 50));
    }
    const skip = await send('POST', `/api/v3/workflows/gated-skip/instances/${iid}/steps/wait/actions/skip`, {});
    expect(skip.statusCode, skip.body).toBe(200);
    expect((await s.services.signals.getWaiter(step))?.status).toBe('CANCELLED');
    expect((await waitForStatus('gated-skip', iid, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
    const signal = await send('POST', '/api/v3/signals', { name: 'gate/skipped', params: { day: '20500101' } });
    expect(signal.statusCode).toBe(200);
    await s.services.signals.drain();
    const lineage = await send('GET', `/api/v3/workflows/gated-skip/instances/${iid}/lineage`);
    expect(lineage.json().edges).toEqual([]);
  });

  it('previews the active version’s time triggers', async () => {
    const push = await send('POST', '/api/v3/workflows', workflow('cron-wf', [noop('a')], { time_triggers: [{ type: 'CRON', cron: '0 9 * * *', timezone: 'Europe/Berlin' }] }));
    expect(push.statusCode).toBe(200);
    const r = await send('GET', '/api/v3/workflows/cron-wf/time-triggers/preview?count=3&from=2025-03-29T00:00:00Z');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      workflow_id: 'cron-wf',
      workflow_version_id: 1,
      time_triggers: [{ index: 0, fire_times: [{ fire_time: '2025-03-29T09:00:00+01:00' }, { fire_time: '2025-03-30T09:00:00+02:00' }, { fire_time: '2025-03-31T09:00:00+02:00' }] }],
    });
    expect((await send('GET', '/api/v3/workflows/cron-wf/time-triggers/preview?count=0')).statusCode).toBe(400);
  });
});

describe('restart and rollup', () => {
  it('restarts a failed instance from its failed step, refuses one that succeeded, and counts steps by status', async () => {
    // A step whose param cannot evaluate (a division by zero by a param of the step before) fails
    // at run time with a clear reason; reading another step, it passes the push's dry run.
    const first = { step: { id: 'job.1', type: 'NoOp', params: { zero: { value: 0, type: 'LONG' } }, transition: { successors: { 'job.2': 'true' } } } };
    const def = workflow('restartable', [first, { step: { id: 'job.2', type: 'NoOp', params: { n: { expression: "return 1 / params.getFromStep('job.1', 'zero');", type: 'LONG' } } } }]);
    expect((await send('POST', '/api/v3/workflows', def)).statusCode).toBe(200);
    const started = await send('POST', '/api/v3/workflows/restartable/versions/active/actions/start', { request_id: 'restart-1' });
    const iid = started.json().workflow_instance_id as number;
    await waitForStatus('restartable', iid, ['FAILED']);

    const rollup1 = await send('GET', `/api/v3/workflows/restartable/instances/${iid}/rollup`);
    expect(rollup1.statusCode).toBe(200);
    expect(rollup1.json()).toMatchObject({ workflow_run_id: 1, leaves: { SUCCEEDED: 1 } });
    const failedLeaves = Object.entries(rollup1.json().leaves as Record<string, number>).filter(([k]) => k !== 'SUCCEEDED');
    expect(failedLeaves.reduce((n, [, v]) => n + v, 0)).toBe(1);

    const restarted = await send('POST', `/api/v3/workflows/restartable/instances/${iid}/actions/restart`, {});
    expect(restarted.statusCode, restarted.body).toBe(200);
    expect(restarted.json()).toEqual({ workflow_id: 'restartable', workflow_instance_id: iid, workflow_run_id: 2, carried_over_steps: ['job.1'] });
    await waitForStatus('restartable', iid, ['FAILED']);
    const job1 = await send('GET', `/api/v3/workflows/restartable/instances/${iid}/runs/2/steps/job.1/attempts/latest`);
    expect(job1.json().status).toBe('SUCCEEDED');

    const ok = await send('POST', '/api/v3/workflows', workflow('restart-ok', [noop('only')]));
    expect(ok.statusCode).toBe(200);
    const okStart = await send('POST', '/api/v3/workflows/restart-ok/versions/active/actions/start', {});
    const okIid = okStart.json().workflow_instance_id as number;
    await waitForStatus('restart-ok', okIid, ['SUCCEEDED']);
    const refused = await send('POST', `/api/v3/workflows/restart-ok/instances/${okIid}/actions/restart`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await send('POST', '/api/v3/workflows/restart-ok/instances/999/actions/restart', {})).statusCode).toBe(404);
    expect((await send('GET', '/api/v3/workflows/restart-ok/instances/999/rollup')).statusCode).toBe(404);
  });
});
