import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { StepActionError } from '../../src/runtime/step-action-error.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, runsUntilAborted, testEngine, until, workflow } from '../runtime/support/engine.js';

describe.each<DbKind>(['pglite', 'postgres'])('step actions (skip, stop, kill) on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const calls: string[] = [];
  const aborted: string[] = [];
  const counted: StepRuntime = {
    async run(_p, ctx) {
      calls.push(`${ctx.workflowId}/${ctx.instanceId}:${ctx.stepId}`);
      return { status: 'SUCCEEDED' };
    },
  };
  // Runs until aborted, so only an action can end it.
  const block = runsUntilAborted((ctx) => aborted.push(`${ctx.workflowId}/${ctx.instanceId}:${ctx.stepId}`));
  const failing: StepRuntime = {
    async run() {
      return { status: 'USER_FAILED', message: 'always fails' };
    },
  };
  const statusOf = async (wf: string, iid: number, step: string): Promise<string> => (await engine.getRun(wf, iid))!.steps.find((s) => s.stepId === step)!.status;
  const running = (wf: string, iid: number, step: string) => until(`${wf}/${iid} ${step} RUNNING`, async () => (await statusOf(wf, iid, step)) === 'RUNNING');

  /** Starts `blocked`, acts on its `hold` step once it runs, and gives the attempt's status after. */
  const actOnRunningHold = async (action: 'stop' | 'kill') => {
    aborted.length = 0;
    const iid = (await engine.startWorkflow({ workflowId: 'blocked' })).workflowInstanceId;
    await running('blocked', iid, 'hold');
    return { iid, status: (await engine.stepAction('blocked', iid, 'hold', action)).status };
  };

  beforeAll(async () => {
    t = await openTestDb(kind);
    const parallel = { run_strategy: 'parallel' };
    defs.add(
      workflow({
        properties: parallel,
        workflow: {
          id: 'skip',
          steps: [
            { step: { id: 'first', type: 'Counted', transition: { successors: { slow: 'true' } } } },
            {
              step: {
                id: 'slow', type: 'Sleep', params: { sleep_seconds: { value: 3_600_000, type: 'LONG' } },
                transition: { successors: { after: 'true', never: 'false', guarded: 'sleep_seconds > 10', missing: 'sleep_seconds + 1' } },
              },
            },
            { step: { id: 'after', type: 'Counted' } },
            { step: { id: 'never', type: 'Counted' } },
            { step: { id: 'guarded', type: 'Counted' } },
            { step: { id: 'missing', type: 'Counted' } },
          ],
        },
      }),
    );
    defs.add(
      workflow({
        properties: parallel,
        workflow: {
          id: 'blocked',
          steps: [
            { step: { id: 'hold', type: 'Block', retry_policy: { error_retry_limit: 3 }, transition: { successors: { next: 'true' } } } },
            { step: { id: 'next', type: 'Counted' } },
          ],
        },
      }),
    );
    defs.add(
      workflow({
        properties: parallel,
        workflow: {
          id: 'retrying',
          steps: [
            { step: { id: 'flaky', type: 'Failing', retry_policy: { error_retry_limit: 2, backoff: { type: 'fixed_backoff', error_retry_backoff_in_secs: 3_600_000 } }, transition: { successors: { next: 'true' } } } },
            { step: { id: 'next', type: 'Counted' } },
          ],
        },
      }),
    );
    ({ engine, errors } = testEngine(t.db, defs));
    engine.registerRuntime('Counted', counted);
    engine.registerRuntime('Block', block);
    engine.registerRuntime('Failing', failing);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('skips a running sleep step: SKIPPED, its runner aborted, and the DAG goes on by its conditions', async () => {
    const iid = (await engine.startWorkflow({ workflowId: 'skip' })).workflowInstanceId;
    await running('skip', iid, 'slow');
    const r = await engine.stepAction('skip', iid, 'slow', 'skip', 'not needed today');
    expect(r).toEqual({ workflowId: 'skip', workflowInstanceId: iid, runId: 1, stepId: 'slow', attemptId: 1, status: 'SKIPPED' });
    expect(await engine.waitForInstance('skip', iid, 15_000)).toBe('SUCCEEDED');
    const steps = Object.fromEntries((await engine.getRun('skip', iid))!.steps.map((s) => [s.stepId, s.status]));
    expect(steps).toEqual({ first: 'SUCCEEDED', slow: 'SKIPPED', after: 'SUCCEEDED', never: 'UNSATISFIED', guarded: 'SUCCEEDED', missing: 'UNSATISFIED' });
    const slow = await engine.getStepAttempt('skip', iid, 'slow');
    expect(slow?.edges).toEqual({ after: true, never: false, guarded: true, missing: false });
    expect(slow?.reason).toMatch(/^not needed today; taken as false: condition for successor missing/);
    expect(slow?.timeline.at(-1)).toMatchObject({ from: 'RUNNING', to: 'SKIPPED' });
    expect(await engine.getRun('skip', iid).then((x) => x!.status)).toBe('SUCCEEDED');
  });

  it('refuses to skip a step that ended, one not created yet, and unknown targets', async () => {
    const iid = (await engine.startWorkflow({ workflowId: 'blocked' })).workflowInstanceId;
    await running('blocked', iid, 'hold');
    await expect(engine.stepAction('blocked', iid, 'next', 'skip')).rejects.toThrow(/has not been created yet \(NOT_CREATED\)/);
    await expect(engine.stepAction('blocked', iid, 'zz', 'stop')).rejects.toThrow(/has no step zz/);
    await expect(engine.stepAction('blocked', 999, 'hold', 'kill')).rejects.toThrow(StepActionError);
    await expect(engine.stepAction('blocked', iid, 'hold', 'resume')).rejects.toThrow(/is RUNNING, not paused at a breakpoint/);
    await engine.stepAction('blocked', iid, 'hold', 'skip');
    expect(await engine.waitForInstance('blocked', iid, 15_000)).toBe('SUCCEEDED');

    const done = (await engine.startWorkflow({ workflowId: 'skip' })).workflowInstanceId;
    await running('skip', done, 'slow');
    const err = await engine.stepAction('skip', done, 'first', 'skip').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepActionError);
    expect((err as StepActionError).code).toBe('conflict');
    expect((err as Error).message).toBe(`step first of skip instance ${done} run 1 attempt 1 already ended SUCCEEDED: only a step that has not ended can be skipped`);
    await engine.stopInstance('skip', done);
  });

  it('stops one step: its runner is aborted and the instance ends STOPPED', async () => {
    const { iid, status } = await actOnRunningHold('stop');
    expect(status).toBe('STOPPED');
    expect(await engine.waitForInstance('blocked', iid, 15_000)).toBe('STOPPED');
    expect(aborted).toEqual([`blocked/${iid}:hold`]);
    const steps = (await engine.getRun('blocked', iid))!.steps.map((s) => [s.stepId, s.status]);
    expect(steps).toEqual([['hold', 'STOPPED'], ['next', 'NOT_CREATED']]);
    expect((await engine.getStepAttempt('blocked', iid, 'hold'))?.reason).toBe('stopped by request');
  });

  it('kills one step: FATALLY_FAILED without a retry, and the instance FAILED', async () => {
    const { iid, status } = await actOnRunningHold('kill');
    expect(status).toBe('FATALLY_FAILED');
    expect(await engine.waitForInstance('blocked', iid, 15_000)).toBe('FAILED');
    const run = await engine.getRun('blocked', iid);
    expect(run?.reason).toBe('step hold ended FATALLY_FAILED');
    expect(run?.steps.find((s) => s.stepId === 'hold')).toMatchObject({ status: 'FATALLY_FAILED', attemptId: 1, reason: 'killed by request' });
    expect(aborted).toEqual([`blocked/${iid}:hold`]);
    await expect(engine.stepAction('blocked', iid, 'hold', 'kill')).rejects.toThrow(/the instance is FAILED/);
  });

  it('skips a step paused at a breakpoint', async () => {
    await engine.setBreakpoint('blocked', 'hold');
    const iid = (await engine.startWorkflow({ workflowId: 'blocked' })).workflowInstanceId;
    await until('hold PAUSED', async () => (await statusOf('blocked', iid, 'hold')) === 'PAUSED');
    await engine.stepAction('blocked', iid, 'hold', 'skip');
    expect(await engine.waitForInstance('blocked', iid, 15_000)).toBe('SUCCEEDED');
    expect(calls).toContain(`blocked/${iid}:next`);
    await engine.deleteBreakpoints('blocked', 'hold');
  });

  it('skips a step waiting out its retry backoff: the retry never runs', async () => {
    const iid = (await engine.startWorkflow({ workflowId: 'retrying' })).workflowInstanceId;
    await until('attempt 2 waiting for its backoff', async () => (await engine.getStepAttempt('retrying', iid, 'flaky'))?.attemptId === 2);
    expect(await engine.stepAction('retrying', iid, 'flaky', 'skip')).toMatchObject({ attemptId: 2, status: 'SKIPPED' });
    expect(await engine.waitForInstance('retrying', iid, 15_000)).toBe('SUCCEEDED');
    expect(calls).toContain(`retrying/${iid}:next`);
    const first = await engine.getStepAttempt('retrying', iid, 'flaky', { attemptId: 1 });
    expect(first?.status).toBe('USER_FAILED');
    await engine.idle(); // the last step job is deleted once its handler returned
    const jobs = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_jobs WHERE job_key LIKE 'step:%'`);
    expect(jobs.rows[0]?.n).toBe(0);
  });

  it('keeps every timeline monotone and reports no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});
