import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';

let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp({ BATON_TIME_SCALE: '1' });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const send = (method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, payload?: object) =>
  s.app.inject({ method, url, ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) }) });

async function stepStatus(wf: string, iid: number, step: string, want: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await send('GET', `/api/v3/workflows/${encodeURIComponent(wf)}/instances/${iid}/runs/latest`);
    const run = r.json() as { status: string; steps: { step_id: string; status: string }[] };
    const got = run.steps?.find((x) => x.step_id === step)?.status;
    if (got === want) return;
    if (Date.now() > deadline) throw new Error(`${wf}/${iid} step ${step} is ${got}, not ${want}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function instanceStatus(wf: string, iid: number, want: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const st = (await send('GET', `/api/v3/workflows/${wf}/instances/${iid}/runs/latest`)).json().status as string;
    if (st === want) return;
    if (Date.now() > deadline) throw new Error(`${wf}/${iid} is ${st}, not ${want}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const sleepy = (id: string) => ({
  properties: { owner: 'tester', run_strategy: 'PARALLEL' },
  workflow: {
    id,
    steps: [
      { step: { id: 'nap', type: 'Sleep', params: { sleep_seconds: { value: 3600, type: 'LONG' } }, transition: { successors: { done: 'true' } } } },
      { step: { id: 'done', type: 'NoOp' } },
    ],
  },
});

async function start(wf: string): Promise<number> {
  const r = await send('POST', `/api/v3/workflows/${wf}/versions/latest/actions/start`, {});
  expect(r.statusCode, r.body).toBe(200);
  return r.json().workflow_instance_id as number;
}

describe('step actions and breakpoints over REST', () => {
  beforeAll(async () => {
    for (const id of ['naps', 'bp']) expect((await send('POST', '/api/v3/workflows', sleepy(id))).statusCode).toBe(200);
  });

  it('sets, lists and deletes a breakpoint; resume lets one paused attempt run', async () => {
    const set = await send('PUT', '/api/v3/workflows/bp/steps/done/breakpoint', {});
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ created: true, breakpoint: { workflow_id: 'bp', step_id: 'done', paused_attempts: 0 } });
    const one = await start('bp');
    const two = await start('bp');
    for (const iid of [one, two]) {
      await stepStatus('bp', iid, 'nap', 'RUNNING');
      expect((await send('POST', `/api/v3/workflows/bp/instances/${iid}/steps/nap/actions/skip`, { reason: 'no nap' })).json()).toMatchObject({ status: 'SKIPPED' });
      await stepStatus('bp', iid, 'done', 'PAUSED');
    }
    const listed = await send('GET', '/api/v3/workflows/bp/breakpoints');
    expect(listed.json()).toMatchObject({ workflow_id: 'bp', breakpoints: [{ step_id: 'done', paused_attempts: 2 }] });

    const resume = await send('POST', `/api/v3/workflows/bp/instances/${one}/steps/done/actions/resume`, {});
    expect(resume.statusCode, resume.body).toBe(200);
    expect(resume.json()).toEqual({ workflow_id: 'bp', workflow_instance_id: one, workflow_run_id: 1, step_id: 'done', step_attempt_id: 1, status: 'PAUSED' });
    await instanceStatus('bp', one, 'SUCCEEDED');
    const again = await send('POST', `/api/v3/workflows/bp/instances/${two}/steps/nap/actions/resume`, {});
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(again.json().detail).toMatch(/is SKIPPED, not paused at a breakpoint/);

    const del = await send('DELETE', '/api/v3/workflows/bp/steps/done/breakpoint');
    expect(del.json()).toEqual({ workflow_id: 'bp', step_id: 'done', deleted: 1, resumed_attempts: 1 });
    await instanceStatus('bp', two, 'SUCCEEDED');
    expect((await send('DELETE', '/api/v3/workflows/bp/steps/done/breakpoint')).statusCode).toBe(404);
    expect((await send('PUT', '/api/v3/workflows/bp/steps/nope/breakpoint', {})).statusCode).toBe(404);
    expect((await send('PUT', '/api/v3/workflows/bp/steps/done/breakpoint', { color: 'red' })).statusCode).toBe(400);
  });

  it('skips a running step; the next one runs', async () => {
    const iid = await start('naps');
    await stepStatus('naps', iid, 'nap', 'RUNNING');
    const r = await send('POST', `/api/v3/workflows/naps/instances/${iid}/steps/nap/actions/skip`, {});
    expect(r.json()).toMatchObject({ workflow_instance_id: iid, step_id: 'nap', status: 'SKIPPED' });
    await instanceStatus('naps', iid, 'SUCCEEDED');
    await stepStatus('naps', iid, 'done', 'SUCCEEDED');
    const ended = await send('POST', `/api/v3/workflows/naps/instances/${iid}/steps/nap/actions/skip`, {});
    expect(ended.statusCode).toBe(409);
    expect(ended.json().detail).toMatch(/the instance is SUCCEEDED/);
  });

  it('stops a step: the instance ends STOPPED', async () => {
    const iid = await start('naps');
    await stepStatus('naps', iid, 'nap', 'RUNNING');
    const r = await send('POST', `/api/v3/workflows/naps/instances/${iid}/steps/nap/actions/stop`, { reason: 'enough' });
    expect(r.json()).toMatchObject({ status: 'STOPPED' });
    await instanceStatus('naps', iid, 'STOPPED');
    const attempt = await send('GET', `/api/v3/workflows/naps/instances/${iid}/runs/latest/steps/nap/attempts/latest`);
    expect(attempt.json()).toMatchObject({ status: 'STOPPED', reason: 'enough' });
  });

  it('kills a step: the instance FAILED', async () => {
    const iid = await start('naps');
    await stepStatus('naps', iid, 'nap', 'RUNNING');
    const r = await send('POST', `/api/v3/workflows/naps/instances/${iid}/steps/nap/actions/kill`, {});
    expect(r.json()).toMatchObject({ status: 'FATALLY_FAILED' });
    await instanceStatus('naps', iid, 'FAILED');
  });

  it('answers 404 for unknown targets and 400 for an unknown action', async () => {
    for (const url of [
      '/api/v3/workflows/nope/instances/1/steps/nap/actions/skip',
      '/api/v3/workflows/naps/instances/999/steps/nap/actions/stop',
      '/api/v3/workflows/naps/instances/1/steps/zz/actions/kill',
    ]) {
      const r = await send('POST', url, {});
      expect(r.statusCode, url).toBe(404);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
    expect((await send('POST', '/api/v3/workflows/naps/instances/1/steps/nap/actions/pause', {})).statusCode).toBe(400);
    expect((await send('GET', '/api/v3/workflows/nope/breakpoints')).statusCode).toBe(404);
  });
});
