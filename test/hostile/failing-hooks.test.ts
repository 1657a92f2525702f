import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from '../../packages/server/test/helpers/service-app.js';

/**
 * Every run reaches a terminal state through the whole service (engine, signals wiring): a step
 * whose signal output, signal dependency or params cannot be evaluated ends FAILED with a reason
 * naming what failed — within seconds, where a failing output used to keep the step RUNNING
 * forever while the completion hook was retried.
 */
const JSON_TYPE = { 'content-type': 'application/json' };
const BOUND_MS = 15_000;

let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

interface Run {
  status: string;
  reason?: string | null;
  steps?: Array<{ step_id: string; status: string; reason?: string | null }>;
}

async function push(def: Record<string, unknown>): Promise<void> {
  const r = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: JSON_TYPE, payload: JSON.stringify(def) });
  expect(r.statusCode, r.body).toBe(200);
}

async function startAndWait(id: string): Promise<{ run: Run; step: (stepId: string) => Promise<{ status: string; reason: string | null }>; ms: number }> {
  const t0 = Date.now();
  const start = await s.app.inject({ method: 'POST', url: `/api/v3/workflows/${id}/versions/latest/actions/start`, headers: JSON_TYPE, payload: '{}' });
  expect(start.statusCode, start.body).toBe(200);
  const iid = start.json<{ workflow_instance_id: number }>().workflow_instance_id;
  for (;;) {
    const r = await s.app.inject({ url: `/api/v3/workflows/${id}/instances/${iid}/runs/latest` });
    const run = r.json<Run>();
    if (r.statusCode === 200 && ['FAILED', 'SUCCEEDED', 'STOPPED', 'TIMED_OUT'].includes(run.status)) {
      const step = async (stepId: string) => {
        const a = await s.app.inject({ url: `/api/v3/workflows/${id}/instances/${iid}/runs/latest/steps/${stepId}/attempts/latest` });
        return a.json<{ status: string; reason: string | null }>();
      };
      return { run, step, ms: Date.now() - t0 };
    }
    if (Date.now() - t0 > BOUND_MS) throw new Error(`${id}/${iid} did not end within ${BOUND_MS} ms: ${r.body.slice(0, 500)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('a step whose completion cannot be recorded ends, with the reason', () => {
  it('a signal output reading a name that neither the step nor the workflow has fails the step and the run (the issue\'s reproducer was RUNNING forever)', async () => {
    await push({
      properties: { owner: 'tester' },
      workflow: {
        id: 'hostile-output-reads-workflow-param',
        params: { run_day: { value: '20260101', type: 'STRING' } },
        steps: [{ step: { id: 'emit', type: 'NoOp', signal_outputs: [{ name: 'hostile/out', params: { day: { expression: 'return no_such_day;', type: 'STRING' } } }] } }],
      },
    });
    const { run, step, ms } = await startAndWait('hostile-output-reads-workflow-param');
    expect(run.status).toBe('FAILED');
    const emit = await step('emit');
    expect(emit.status).toBe('FATALLY_FAILED');
    expect(emit.reason).toMatch(/^step completion hook "signal outputs" failed: signal_outputs\[0\] \(hostile\/out\) param day: evaluated to null/);
    expect(ms).toBeLessThan(BOUND_MS);
    // Nothing was published for the failed step.
    const published = await s.app.inject({ url: '/api/v3/signals/hostile%2Fout/instances' });
    expect(published.json<{ instances: unknown[] }>().instances).toEqual([]);
  });

  it('with IGNORE_FAILURE the failing output completes the step with the error and the run succeeds', async () => {
    await push({
      properties: { owner: 'tester' },
      workflow: {
        id: 'hostile-output-ignored',
        steps: [
          { step: { id: 'emit', type: 'NoOp', failure_mode: 'IGNORE_FAILURE', transition: { successors: { after: 'true' } }, signal_outputs: [{ name: 'hostile/out2', params: { n: { expression: 'return 1 / 0;', type: 'LONG' } } }] } },
          { step: { id: 'after', type: 'NoOp' } },
        ],
      },
    });
    const { run, step } = await startAndWait('hostile-output-ignored');
    expect(run.status).toBe('SUCCEEDED');
    const emit = await step('emit');
    expect(emit.status).toBe('COMPLETED_WITH_ERROR');
    expect(emit.reason).toContain('step completion hook "signal outputs" failed: signal_outputs[0] (hostile/out2) param n');
    expect((await step('after')).status).toBe('SUCCEEDED');
  });

  it('a signal dependency whose match param cannot be evaluated fails the step at the gate', async () => {
    await push({
      properties: { owner: 'tester' },
      workflow: {
        id: 'hostile-dependency-fails',
        steps: [{ step: { id: 'wait', type: 'NoOp', signal_dependencies: [{ name: 'hostile/dep', match_params: { n: { param: { expression: 'return 1 / 0;', type: 'LONG' }, operator: '=' } } }] } }],
      },
    });
    const { run, step } = await startAndWait('hostile-dependency-fails');
    expect(run.status).toBe('FAILED');
    const wait = await step('wait');
    expect(wait.status).toBe('USER_FAILED');
    expect(wait.reason).toMatch(/^step gate "signals" failed: signal_dependencies\[0\]\.match_params\.n: /);
  });

  it('params.getFromSignal in a run no signal started names the signal', async () => {
    await push({ properties: { owner: 'tester' }, workflow: { id: 'hostile-no-signal', params: { d: { expression: "return params.getFromSignal('orders', 'day');", type: 'STRING' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } });
    const { run } = await startAndWait('hostile-no-signal');
    expect(run.status).toBe('FAILED');
    expect(run.reason).toContain('no signal named orders triggered this run (no signal triggered it)');
    expect(run.reason).not.toContain('Cannot read properties');
  });
});
