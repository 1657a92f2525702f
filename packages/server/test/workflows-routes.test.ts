import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, startServiceApp, type ServiceApp } from './helpers/service-app.js';

let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const json = (url: string, payload: string | object, method: 'POST' | 'PUT' = 'POST') =>
  s.app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

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

describe('workflow definitions', () => {
  it('pushes a Maestro JSON sample and runs it to success', async () => {
    const r = await json('/api/v3/workflows', sample('sample-dag-test-1.json'));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ workflow_id: 'sample-dag-test-1', workflow_version_id: 1, created: true, active_version_id: 1 });
    const start = await json('/api/v3/workflows/sample-dag-test-1/versions/latest/actions/start', { request_id: 'r-1' });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ workflow_id: 'sample-dag-test-1', workflow_instance_id: 1, workflow_run_id: 1, duplicate: false });
    const run = await waitForStatus('sample-dag-test-1', 1, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
  });
});
