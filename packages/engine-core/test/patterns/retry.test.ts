import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { backoffSeconds } from '../../src/runtime/retry.js';
import type { StepOutcome, StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';

describe('backoff arithmetic', () => {
  it('fixed, exponential with its cap, defaults and ${} templates', () => {
    expect(backoffSeconds({ type: 'FIXED_BACKOFF', errorRetryBackoffInSecs: 7 }, 'error', 3, {})).toBe(7);
    const exp = { type: 'EXPONENTIAL_BACKOFF' as const, errorRetryBackoffInSecs: 2, errorRetryExponent: 3, errorRetryLimitInSecs: 50 };
    expect([1, 2, 3, 4].map((r) => backoffSeconds(exp, 'error', r, {}))).toEqual([2, 6, 18, 50]);
    expect(backoffSeconds(undefined, 'platform', 2, {})).toBe(120);
    expect(backoffSeconds({ type: 'FIXED_BACKOFF', timeoutRetryBackoffInSecs: { template: '${wait}' } }, 'timeout', 1, { wait: { type: 'LONG', value: 9n } })).toBe(9);
  });
});

describe('retry_policy on PGlite', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  /** Fails with the statuses queued for a step id, then succeeds. */
  const plan = new Map<string, StepOutcome[]>();
  const calls: { step: string; attempt: number; at: number }[] = [];
  const flaky: StepRuntime = {
    async run(_p, ctx) {
      calls.push({ step: `${ctx.workflowId}/${ctx.stepId}`, attempt: ctx.attemptId, at: performance.now() });
      const next = plan.get(ctx.workflowId)?.shift();
      return next ? { status: next, message: `planned ${next}` } : { status: 'SUCCEEDED' };
    },
  };
  const wf = (id: string, retryPolicy: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    defs.add(workflow({ workflow: { id, steps: [{ step: { id: 's', type: 'Flaky', retry_policy: retryPolicy, ...extra } }] } }));

  beforeAll(async () => {
    t = await openTestDb('pglite');
    wf('fixed', { error_retry_limit: 2, backoff: { type: 'fixed_backoff', error_retry_backoff_in_secs: 2 } });
    wf('exponential', { error_retry_limit: 3, backoff: { type: 'exponential_backoff', error_retry_backoff_in_secs: 1, error_retry_exponent: 4, error_retry_limit_in_secs: 5 } });
    wf('platform', { platform_retry_limit: 1, backoff: { type: 'fixed_backoff', platform_retry_backoff_in_secs: 1 } });
    wf('ignored', { error_retry_limit: 1, backoff: { type: 'fixed_backoff', error_retry_backoff_in_secs: 1 } }, { failure_mode: 'IGNORE_FAILURE' });
    defs.add(workflow({ workflow: { id: 'no-policy', steps: [{ step: { id: 's', type: 'Flaky' } }] } }));
    // Sleep 60 s against timeouts of 2 s (a duration string, retried once) and of a param's value;
    // a timeout longer than the sleep lets it finish.
    defs.add(
      workflow({
        workflow: {
          id: 'slow',
          params: { patience: { value: '3s', type: 'STRING' } },
          steps: [
            { step: { id: 'short', type: 'Sleep', timeout: '2s', retry_policy: { timeout_retry_limit: 1, backoff: { type: 'fixed_backoff', timeout_retry_backoff_in_secs: 1 } }, params: { sleep_seconds: { value: 60, type: 'LONG' } } } },
            { step: { id: 'from-param', type: 'Sleep', timeout: '${patience}', params: { sleep_seconds: { value: 60, type: 'LONG' } } } },
            { step: { id: 'enough', type: 'Sleep', timeout: 120, params: { sleep_seconds: { value: 1, type: 'LONG' } } } },
          ],
        },
      }),
    );
    // time scale 0.1: one backoff second is 100 ms
    ({ engine, errors } = testEngine(t.db, defs, { timeScale: 0.1, pollMs: 20 }));
    engine.registerRuntime('Flaky', flaky);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  const gaps = (wfId: string) => {
    const c = calls.filter((x) => x.step === `${wfId}/s`);
    return c.slice(1).map((x, i) => x.at - c[i]!.at);
  };
  const attempts = async (wfId: string, instanceId: number) =>
    (
      await t.db.query<{ attempt_id: number; status: string }>(
        `SELECT a.attempt_id, a.status FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = $1 AND i.instance_id = $2 ORDER BY a.attempt_id`,
        [wfId, instanceId],
      )
    ).rows.map((r) => `${r.attempt_id}:${r.status}`);

  it('fixed backoff: retries user errors up to the limit, each after the backoff', async () => {
    plan.set('fixed', ['USER_FAILED', 'USER_FAILED']);
    const s = await engine.startWorkflow({ workflowId: 'fixed' });
    expect(await engine.waitForInstance('fixed', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    expect(await attempts('fixed', s.workflowInstanceId)).toEqual(['1:USER_FAILED', '2:USER_FAILED', '3:SUCCEEDED']);
    for (const g of gaps('fixed')) expect(g).toBeGreaterThanOrEqual(195);
    const retryEntry = await engine.getStepAttempt('fixed', s.workflowInstanceId, 's', { attemptId: 2 });
    expect(retryEntry?.status).toBe('USER_FAILED');
  });

  it('exponential backoff grows by the exponent up to its cap; past the limit the step fails', async () => {
    plan.set('exponential', ['USER_FAILED', 'USER_FAILED', 'USER_FAILED', 'USER_FAILED']);
    const s = await engine.startWorkflow({ workflowId: 'exponential' });
    expect(await engine.waitForInstance('exponential', s.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(await attempts('exponential', s.workflowInstanceId)).toEqual(['1:USER_FAILED', '2:USER_FAILED', '3:USER_FAILED', '4:USER_FAILED']);
    const [g1, g2, g3] = gaps('exponential');
    // 1 s, 4 s, then 16 s capped at 5 s — at 100 ms per second (the uncapped third, 1,600 ms, is
    // far enough above the cap that a slow pick-up of the retry cannot pass for it)
    expect(g1).toBeGreaterThanOrEqual(95);
    expect(g2).toBeGreaterThanOrEqual(395);
    expect(g3).toBeGreaterThanOrEqual(495);
    expect(g3!).toBeLessThan(1595);
  });

  it('platform errors have their own limit; IGNORE_FAILURE applies once retries ran out; no policy, no retry', async () => {
    plan.set('platform', ['PLATFORM_FAILED', 'PLATFORM_FAILED']);
    const p = await engine.startWorkflow({ workflowId: 'platform' });
    expect(await engine.waitForInstance('platform', p.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(await attempts('platform', p.workflowInstanceId)).toEqual(['1:PLATFORM_FAILED', '2:PLATFORM_FAILED']);

    plan.set('ignored', ['USER_FAILED', 'USER_FAILED']);
    const i = await engine.startWorkflow({ workflowId: 'ignored' });
    expect(await engine.waitForInstance('ignored', i.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    expect(await attempts('ignored', i.workflowInstanceId)).toEqual(['1:USER_FAILED', '2:COMPLETED_WITH_ERROR']);

    plan.set('no-policy', ['USER_FAILED']);
    const n = await engine.startWorkflow({ workflowId: 'no-policy' });
    expect(await engine.waitForInstance('no-policy', n.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(await attempts('no-policy', n.workflowInstanceId)).toEqual(['1:USER_FAILED']);
    expect(errors).toEqual([]);
  });

  it('step timeouts: seconds, duration strings and params; a timeout is retried under its own limit', async () => {
    const s = await engine.startWorkflow({ workflowId: 'slow' });
    const t0 = performance.now();
    expect(await engine.waitForInstance('slow', s.workflowInstanceId, 20_000)).toBe('FAILED');
    // 2 s + 1 s backoff + 2 s at 100 ms per second, well before one 60 s sleep (6 s here)
    expect(performance.now() - t0).toBeLessThan(5_000);
    const rows = (
      await t.db.query<{ step_id: string; attempt_id: number; status: string; reason: string }>(
        `SELECT a.step_id, a.attempt_id, a.status, a.reason FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = 'slow' ORDER BY a.step_id, a.attempt_id`,
      )
    ).rows.map((r) => `${r.step_id}#${r.attempt_id}:${r.status}:${r.reason ?? ''}`);
    expect(rows).toEqual([
      'enough#1:SUCCEEDED:',
      'from-param#1:TIMED_OUT:step timed out after 3 s',
      'short#1:TIMED_OUT:step timed out after 2 s',
      'short#2:TIMED_OUT:step timed out after 2 s',
    ]);
  });

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});
