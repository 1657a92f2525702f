import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { runCli, sendJson, waitForStep } from './helpers/service-http.js';

/**
 * "Why is this waiting?" over REST and the CLI, against the whole service on PGlite and on
 * PostgreSQL: a step in WAITING_FOR_SIGNALS and a signal trigger with a partial join, met and
 * unmet conditions, the closest non-matching signals (operator, value, join key), bad references.
 */
const stepWf = {
  properties: { owner: 'tester', run_strategy: 'PARALLEL' },
  workflow: {
    id: 'why-step-wf',
    steps: [
      {
        step: {
          id: 'wait',
          type: 'NoOp',
          signal_dependencies: [
            { name: 'why/a', match_params: { day: { param: { value: '20261201', type: 'STRING' }, operator: '=' } } },
            { name: 'why/b', match_params: { size: { param: { value: 100, type: 'LONG' }, operator: '>' } } },
          ],
          transition: {},
        },
      },
    ],
  },
};
const triggerWf = {
  properties: { owner: 'tester' },
  workflow: {
    id: 'why-trigger-wf',
    signal_triggers: [
      {
        definitions: {
          // A join key may not also be a match param (Maestro refuses it): `rows` is matched, `day` joins.
          'why/left': { match_params: { rows: { value: 1, operator: '>=' } }, join_keys: ['day'] },
          'why/right': { match_params: { kind: { value: 'full', operator: '=' } }, join_keys: ['date'] },
        },
        params: {},
      },
    ],
    steps: [{ step: { id: 'go', type: 'NoOp', transition: {} } }],
  },
};

const backends = [
  { name: 'PGlite', open: async () => ({ s: await startServiceApp(), database: undefined as Database | undefined }) },
  {
    name: 'PostgreSQL',
    open: async () => {
      const database = await createTestDatabase();
      return { s: await startServiceApp({}, new PgDb({ connectionString: database.url, max: 5, applicationName: 'why-waiting-test' })), database };
    },
  },
];

describe.each(backends)('why waiting over REST and CLI on $name', ({ open }) => {
  let s: ServiceApp;
  let database: Database | undefined;
  let url: string;
  let iid: number;
  const send = (method: 'GET' | 'POST', p: string, body?: object) => sendJson(s, method, p, body);
  const publish = async (name: string, params: object) => expect((await send('POST', '/api/v3/signals', { name, params })).statusCode).toBe(200);

  beforeAll(async () => {
    ({ s, database } = await open());
    url = await s.app.listen({ port: 0, host: '127.0.0.1' });
    for (const wf of [stepWf, triggerWf]) {
      const r = await send('POST', '/api/v3/workflows', wf);
      expect(r.statusCode, r.body).toBe(200);
    }
    iid = (await send('POST', '/api/v3/workflows/why-step-wf/versions/latest/actions/start', {})).json().workflow_instance_id as number;
    await waitForStep(s, 'why-step-wf', iid, 'wait', 'WAITING_FOR_SIGNALS');
    await publish('why/a', { day: '20261201' });
    await publish('why/b', { size: 50 });
    await publish('why/b', { size: 'big' });
    await publish('why/left', { day: 20240105, rows: 5 });
    await publish('why/right', { kind: 'partial', date: 20240105 });
    await publish('why/right', { kind: 'full', date: 20240107 });
    await s.services.signals.drain();
  }, 90_000);

  afterAll(async () => {
    await s?.close();
    await database?.drop();
  });

  it('explains a waiting step: the met dependency by its signal, the unmet one by its closest misses', async () => {
    const r = await send('GET', `/api/v3/workflows/why-step-wf/instances/${iid}/steps/wait/waiting`);
    expect(r.statusCode, r.body).toBe(200);
    const w = r.json();
    expect(w).toMatchObject({ workflow_id: 'why-step-wf', workflow_instance_id: iid, workflow_run_id: 1, step_id: 'wait', step_attempt_id: 1, status: 'WAITING_FOR_SIGNALS', waiting: true, waiter_status: 'WAITING', scan_limit: 100 });
    expect(w.waiting_since).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    expect(w.conditions[0]).toMatchObject({ signal_name: 'why/a', met: true, matched_by: { name: 'why/a', seq_id: 1, params: { day: '20261201' } } });
    expect(w.conditions[0].matched_by.create_time).toMatch(/Z$/);
    expect(w.conditions[1]).toMatchObject({ signal_name: 'why/b', met: false, matched_by: null, scanned: 2 });
    expect(w.conditions[1].closest).toEqual([
      expect.objectContaining({ signal: expect.objectContaining({ seq_id: 2 }), mismatches: [expect.objectContaining({ kind: 'param', param: 'size', operator: '>', expected: 100, actual: 'big' })] }),
      expect.objectContaining({ signal: expect.objectContaining({ seq_id: 1 }), mismatches: [expect.objectContaining({ kind: 'param', param: 'size', operator: '>', expected: 100, actual: 50, message: 'size > 100: actual 50' })] }),
    ]);
    const one = (await send('GET', `/api/v3/workflows/why-step-wf/instances/${iid}/steps/wait/waiting?closest=1&scan_limit=1`)).json();
    expect(one.conditions[1]).toMatchObject({ scanned: 1 });
    expect(one.conditions[1].closest).toHaveLength(1);
  });

  it('explains a partial join: the held signal met, the missing one with value and join-key misses', async () => {
    const r = await send('GET', '/api/v3/workflows/why-trigger-wf/triggers/signals/waiting');
    expect(r.statusCode, r.body).toBe(200);
    const t = r.json().triggers[0];
    expect(t).toMatchObject({ signal_names: ['why/left', 'why/right'], paused: false, partial_joins: 2 });
    const join = t.joins.find((j: { join_values: unknown[] }) => j.join_values?.[0] === 20240105);
    expect(join.conditions[0]).toMatchObject({ met: true, matched_by: { name: 'why/left', seq_id: 1 } });
    expect(join.conditions[1]).toMatchObject({ met: false, expected_join: { date: 20240105 } });
    expect(join.conditions[1].closest.map((m: { mismatches: { kind: string; param: string; expected: unknown; actual: unknown }[] }) => m.mismatches)).toEqual([
      [expect.objectContaining({ kind: 'join_key', param: 'date', expected: 20240105, actual: 20240107 })],
      [expect.objectContaining({ kind: 'param', param: 'kind', operator: '=', expected: 'full', actual: 'partial' })],
    ]);
    const only = await send('GET', `/api/v3/workflows/why-trigger-wf/triggers/signals/waiting?trigger_id=${t.trigger_id}&join_limit=1`);
    expect(only.json().triggers[0].joins).toHaveLength(1);
  });

  it('answers 404 and 400 problems for bad references and parameters', async () => {
    const problem = async (p: string, status: number, field?: string) => {
      const r = await send('GET', p);
      expect(r.statusCode, r.body).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      if (field) expect(r.json().errors[0].field).toBe(field);
      return r.json();
    };
    expect((await problem('/api/v3/workflows/nope/instances/1/steps/wait/waiting', 404)).detail).toContain('no instance 1');
    expect((await problem(`/api/v3/workflows/why-step-wf/instances/${iid + 100}/steps/wait/waiting`, 404)).detail).toContain(`no instance ${iid + 100}`);
    await problem(`/api/v3/workflows/why-step-wf/instances/${iid}/steps/nope/waiting`, 404, 'params.stepId');
    await problem(`/api/v3/workflows/why-step-wf/instances/x/steps/wait/waiting`, 400);
    await problem(`/api/v3/workflows/why-step-wf/instances/${iid}/steps/wait/waiting?scan_limit=0`, 400);
    await problem(`/api/v3/workflows/why-step-wf/instances/${iid}/steps/wait/waiting?closest=11`, 400);
    await problem(`/api/v3/workflows/why-step-wf/instances/${iid}/steps/wait/waiting?limit=5`, 400, 'querystring.limit');
    expect((await problem('/api/v3/workflows/nope/triggers/signals/waiting', 404)).detail).toContain('"nope" does not exist');
    await problem('/api/v3/workflows/why-trigger-wf/triggers/signals/waiting?trigger_id=nope', 404, 'querystring.trigger_id');
    await problem('/api/v3/workflows/why-trigger-wf/triggers/signals/waiting?join_limit=0', 400);
  });

  it('baton step why and baton trigger why print the same, as text and as --json', async () => {
    const text = await runCli(url, ['step', 'why', 'why-step-wf', String(iid), 'wait']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`step wait of why-step-wf instance ${iid} run 1, attempt 1: WAITING_FOR_SIGNALS`);
    expect(text.stdout).toMatch(/waiting since \d{4}-\d{2}-\d{2}T\S+Z for 1 of 2 signal dependencies/);
    expect(text.stdout).toContain('MET   [0] why/a: day = "20261201"');
    expect(text.stdout).toMatch(/met by why\/a seq 1 at \d{4}-\S+Z/);
    expect(text.stdout).toContain('UNMET [1] why/b: size > 100');
    expect(text.stdout).toContain('param: size > 100: actual 50');
    const json = await runCli(url, ['step', 'why', 'why-step-wf', String(iid), 'wait', '--json', '--closest', '1']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).conditions[1].closest).toHaveLength(1);

    const trig = await runCli(url, ['trigger', 'why', 'why-trigger-wf']);
    expect(trig.code, trig.stderr).toBe(0);
    expect(trig.stdout).toMatch(/trigger \S+ of why-trigger-wf \(#0\) on why\/left \+ why\/right: 2 partial joins/);
    expect(trig.stdout).toContain('join day=20240105');
    expect(trig.stdout).toContain('UNMET [1] why/right: kind = "full"; join date = 20240105');
    expect(trig.stdout).toContain('join_key: join key date: expected 20240105, actual 20240107');
    expect(JSON.parse((await runCli(url, ['trigger', 'why', 'why-trigger-wf', '--json'])).stdout).triggers[0].partial_joins).toBe(2);

    const bad = await runCli(url, ['step', 'why', 'why-step-wf', String(iid), 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no attempt');
    const usage = await runCli(url, ['trigger', 'why', 'why-trigger-wf', '--joins', '0']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--joins must be a whole number from 1 to 50');
  });
});
