import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { runCli, sendJson, waitForStep } from './helpers/service-http.js';

let s: ServiceApp;
let url: string;

beforeAll(async () => {
  s = await startServiceApp({ BATON_TIME_SCALE: '1' });
  url = await s.app.listen({ port: 0, host: '127.0.0.1' });
  for (const [id, strategy] of [['kill-naps', 'PARALLEL'], ['kill-strict', 'STRICT_SEQUENTIAL']] as const) {
    const def = {
      properties: { owner: 'tester', run_strategy: strategy },
      workflow: {
        id,
        steps: [
          { step: { id: 'nap', type: 'Sleep', params: { sleep_seconds: { value: 3600, type: 'LONG' } }, transition: { successors: { done: 'true' } } } },
          { step: { id: 'done', type: 'NoOp' } },
        ],
      },
    };
    expect((await send('POST', '/api/v3/workflows', def)).statusCode).toBe(200);
  }
  const gated = {
    properties: { owner: 'tester', run_strategy: 'PARALLEL' },
    workflow: {
      id: 'kill-gated',
      steps: [{ step: { id: 'wait', type: 'NoOp', signal_dependencies: [{ name: 'gate/killed', match_params: { day: { param: { value: '20500101', type: 'STRING' }, operator: '=' } } }] } }],
    },
  };
  expect((await send('POST', '/api/v3/workflows', gated)).statusCode).toBe(200);
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const send = (method: 'POST' | 'PUT' | 'GET', path: string, payload?: object) => sendJson(s, method, path, payload);

async function start(wf: string): Promise<number> {
  const r = await send('POST', `/api/v3/workflows/${wf}/versions/latest/actions/start`, {});
  expect(r.statusCode, r.body).toBe(200);
  return r.json().workflow_instance_id as number;
}

async function run(wf: string, iid: number): Promise<{ status: string; reason: string | null; steps: { step_id: string; status: string; reason: string | null }[] }> {
  return (await send('GET', `/api/v3/workflows/${wf}/instances/${iid}/runs/latest`)).json();
}

const stepStatus = (wf: string, iid: number, step: string, want: string) => waitForStep(s, wf, iid, step, want);

describe('PUT /api/v3/workflows/{id}/instances/{iid}/actions/kill', () => {
  it('kills a running instance: FAILED, the running step FATALLY_FAILED with the reason', async () => {
    const iid = await start('kill-naps');
    await stepStatus('kill-naps', iid, 'nap', 'RUNNING');
    const r = await send('PUT', `/api/v3/workflows/kill-naps/instances/${iid}/actions/kill`, { reason: 'runaway' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ workflow_id: 'kill-naps', workflow_instance_id: iid, killed: true, status: 'FAILED' });
    const after = await run('kill-naps', iid);
    expect([after.status, after.reason]).toEqual(['FAILED', 'runaway']);
    expect(after.steps.map((x) => [x.step_id, x.status, x.reason])).toEqual([
      ['nap', 'FATALLY_FAILED', 'runaway'],
      ['done', 'NOT_CREATED', null],
    ]);
    // Again: nothing changes, as a second stop changes nothing.
    const again = await send('PUT', `/api/v3/workflows/kill-naps/instances/${iid}/actions/kill`, {});
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual({ workflow_id: 'kill-naps', workflow_instance_id: iid, killed: false, status: 'FAILED' });
  });

  it('STRICT_SEQUENTIAL: the run queued behind a killed one stays queued', async () => {
    const first = await start('kill-strict');
    const second = await start('kill-strict');
    await stepStatus('kill-strict', first, 'nap', 'RUNNING');
    expect((await send('PUT', `/api/v3/workflows/kill-strict/instances/${first}/actions/kill`, {})).json()).toMatchObject({ killed: true, status: 'FAILED' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await run('kill-strict', second)).status).toBe('CREATED');
    expect((await run('kill-strict', first)).reason).toBe('killed by request');
  });

  it('a step waiting for a signal drops its waiter when its instance is killed', async () => {
    const iid = await start('kill-gated');
    const step = { workflowId: 'kill-gated', workflowInstanceId: iid, stepId: 'wait', attempt: 1 };
    const deadline = Date.now() + 10_000;
    while ((await s.services.signals.getWaiter(step))?.status !== 'WAITING') {
      if (Date.now() > deadline) throw new Error('the step never waited');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await send('PUT', `/api/v3/workflows/kill-gated/instances/${iid}/actions/kill`, {})).json()).toMatchObject({ killed: true, status: 'FAILED' });
    expect((await s.services.signals.getWaiter(step))?.status).toBe('CANCELLED');
  });

  it('404 for an unknown workflow or instance, 400 for an unknown body field or a bad instance id', async () => {
    for (const path of ['/api/v3/workflows/nope/instances/1/actions/kill', '/api/v3/workflows/kill-naps/instances/9999/actions/kill']) {
      const r = await send('PUT', path, {});
      expect(r.statusCode, path).toBe(404);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await send('PUT', '/api/v3/workflows/kill-naps/instances/1/actions/kill', { reason: 'x', force: true })).statusCode).toBe(400);
    expect((await send('PUT', '/api/v3/workflows/kill-naps/instances/0/actions/kill', {})).statusCode).toBe(400);
    expect((await send('PUT', '/api/v3/workflows/kill-naps/instances/1/actions/kill', { reason: 'x'.repeat(1001) })).statusCode).toBe(400);
  });
});

/** `baton ...args` in this process against the test server. */
const baton = (...args: string[]) => runCli(url, args);

describe('baton instance kill', () => {
  it('kills a running instance, says so when it had already ended, and prints JSON with --json', async () => {
    const iid = await start('kill-naps');
    await stepStatus('kill-naps', iid, 'nap', 'RUNNING');
    expect(await baton('instance', 'kill', 'kill-naps', String(iid), '--reason', 'from the CLI')).toEqual({
      code: 0,
      stdout: `killed kill-naps instance ${iid}: FAILED\n`,
      stderr: '',
    });
    expect((await run('kill-naps', iid)).steps[0]).toMatchObject({ status: 'FATALLY_FAILED', reason: 'from the CLI' });
    expect((await baton('instance', 'kill', 'kill-naps', String(iid))).stdout).toBe(`kill-naps instance ${iid} had already ended: FAILED\n`);
    const json = await baton('instance', 'kill', 'kill-naps', String(iid), '--json');
    expect(JSON.parse(json.stdout)).toEqual({ workflow_id: 'kill-naps', workflow_instance_id: iid, killed: false, status: 'FAILED' });
  });

  it('an unknown instance exits 1 with the problem; a wrong command line exits 2', async () => {
    const missing = await baton('instance', 'kill', 'kill-naps', '9999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^baton: 404 Not Found: workflow "kill-naps" has no instance 9999/);
    expect((await baton('instance', 'kill', 'kill-naps')).code).toBe(2);
    expect((await baton('instance', 'kill', 'kill-naps', 'x')).code).toBe(2);
    expect((await baton('instance', 'kill', 'kill-naps', '1', '--watch')).code).toBe(2);
    expect((await baton('instance', 'status', 'kill-naps', '1', '--reason', 'r')).code).toBe(2);
    expect((await baton('instance', 'pause', 'kill-naps', '1')).code).toBe(2);
  });

  it('documents kill in baton instance --help', async () => {
    const help = await baton('instance', '--help');
    expect(help.stdout).toMatch(/baton instance kill ID IID \[--reason TEXT\]/);
  });
});
