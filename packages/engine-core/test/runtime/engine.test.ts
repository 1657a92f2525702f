import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { StartError } from '../../src/runtime/start.js';
import type { StepRuntime, StepRuntimeContext } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from './support/engine.js';
import { Releases } from './support/releases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Runs until the test releases it (by `<workflow>/<instance>/<step>`) or the engine aborts it. */
class HoldRuntime implements StepRuntime {
  readonly running = new Map<string, StepRuntimeContext>();
  readonly aborted: string[] = [];
  readonly log: string[] = [];
  maxConcurrent = 0;
  private readonly releases = new Releases();

  key(ctx: { workflowId: string; instanceId: number; stepId: string }): string {
    return `${ctx.workflowId}/${ctx.instanceId}/${ctx.stepId}`;
  }

  async run(_params: unknown, ctx: StepRuntimeContext) {
    const key = this.key(ctx);
    this.running.set(key, ctx);
    this.log.push(`start ${key}`);
    this.maxConcurrent = Math.max(this.maxConcurrent, [...this.running.keys()].filter((k) => k.startsWith(`${ctx.workflowId}/`)).length);
    try {
      await this.releases.wait(key, ctx.signal);
      this.log.push(`end ${key}`);
      return { status: 'SUCCEEDED' as const };
    } catch (e) {
      this.aborted.push(key);
      throw e;
    } finally {
      this.running.delete(key);
    }
  }

  release(key: string): void {
    this.releases.release(key);
    this.running.delete(key);
  }

  async waitRunning(key: string): Promise<void> {
    await until(() => this.running.has(key), `${key} to run`);
  }
}

const failRuntime: StepRuntime = { run: async () => ({ status: 'USER_FAILED', message: 'the job said no' }) };
const outputRuntime: StepRuntime = { run: async (params) => ({ status: 'SUCCEEDED', outputs: { doubled: BigInt(params.x as bigint) * 2n, label: `x=${String(params.x)}` } }) };

function strategyWf(id: string, runStrategy: unknown) {
  return workflow({ properties: { run_strategy: runStrategy }, workflow: { id, steps: [{ step: { id: 'hold', type: 'Hold' } }] } });
}

describe.each<DbKind>(['pglite', 'postgres'])('engine on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const hold = new HoldRuntime();

  beforeAll(async () => {
    t = await openTestDb(kind);
    defs.add(strategyWf('seq', 'sequential'));
    defs.add(strategyWf('strict', 'strict_sequential'));
    defs.add(strategyWf('first', 'first_only'));
    defs.add(strategyWf('last', 'last_only'));
    defs.add(strategyWf('serial-latest', 'serial_latest_only'));
    defs.add(strategyWf('par', { rule: 'parallel', workflow_concurrency: 2 }));
    defs.add(
      workflow({
        properties: { run_strategy: 'strict_sequential' },
        workflow: { id: 'strict-fail', params: { fail: { value: true, type: 'BOOLEAN' } }, steps: [{ step: { id: 'gate', type: 'NoOp', transition: { successors: { bad: 'fail', ok: '!fail' } } } }, { step: { id: 'bad', type: 'Fail' } }, { step: { id: 'ok', type: 'NoOp' } }] },
      }),
    );
    defs.add(
      workflow({
        properties: { run_strategy: 'parallel', step_concurrency: 2 },
        workflow: { id: 'conc', steps: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ step: { id, type: 'Hold' } })) },
      }),
    );
    for (const mode of ['fail_after_running', 'ignore_failure', 'fail_immediately']) {
      defs.add(
        workflow({
          workflow: {
            id: `fm-${mode}`,
            steps: [
              { step: { id: 'root', type: 'NoOp', transition: { successors: { bad: 'true', other: 'true' } } } },
              { step: { id: 'bad', type: 'Fail', failure_mode: mode, transition: { successors: { after: 'true' } } } },
              { step: { id: 'other', type: 'Hold' } },
              { step: { id: 'after', type: 'NoOp' } },
            ],
          },
        }),
      );
    }
    defs.add(workflow({ workflow: { id: 'notebook', steps: [{ step: { id: 'nb', type: 'Notebook' } }] } }));
    defs.add(
      workflow({
        workflow: {
          id: 'xparams',
          params: { base: { value: 20, type: 'LONG' } },
          steps: [
            { step: { id: 'p', type: 'Output', params: { x: { expression: 'base + 1', type: 'LONG' } }, transition: { successors: { q: 'doubled == 42' } } } },
            {
              step: {
                id: 'q',
                type: 'NoOp',
                params: {
                  viaStep: { expression: "params.getFromStep('p', 'doubled')", type: 'LONG' },
                  viaName: { expression: 'p__label', type: 'STRING' },
                  viaTemplate: { value: 'got ${p__x} and ${base}', type: 'STRING' },
                  fromInstance: { expression: "params.getFromInstance('base') * 2", type: 'LONG' },
                },
              },
            },
          ],
        },
      }),
    );
    defs.add(workflow({ workflow: { id: 'badcond', steps: [{ step: { id: 'a', type: 'NoOp', transition: { successors: { b: "'not a boolean'" } } } }, { step: { id: 'b', type: 'NoOp' } }] } }));
    defs.add(workflow({ workflow: { id: 'badparam', params: { oops: { expression: 'throw "no way";', type: 'STRING' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
    defs.add(
      workflow({
        workflow: {
          id: 'ports',
          steps: [
            { step: { id: 'a', type: 'NoOp', params: { fromSignal: { expression: "params.getFromSignal('orders', 'count') + 1", type: 'LONG' } }, transition: { successors: { b: 'true' } } } },
            { step: { id: 'b', type: 'NoOp' } },
          ],
        },
      }),
    );
    defs.add(workflow({ workflow: { id: 'typed', params: { n: { value: 1, type: 'LONG' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
    ({ engine, errors } = testEngine(t.db, defs));
    await t.db.exec('CREATE TABLE test_hook_events (what TEXT NOT NULL)');
    engine.registerSelExtension('getFromSignal', {
      prepare: async (q) => (await q.query<{ n: number }>('SELECT 41 AS n')).rows[0]!.n,
      call: (prepared, _ctx, signal, param) => (signal === 'orders' && param === 'count' ? BigInt(prepared as number) : null),
    });
    engine.onStepCompleted(async (tx, _outbox, e) => {
      if (e.workflowId === 'ports') await tx.query('INSERT INTO test_hook_events (what) VALUES ($1)', [`step ${e.stepId} ${e.status} ${String(e.params.fromSignal?.value ?? '-')}`]);
    });
    engine.onInstanceCompleted(async (tx, _outbox, e) => {
      if (e.workflowId === 'ports') await tx.query('INSERT INTO test_hook_events (what) VALUES ($1)', [`instance ${e.instanceId} ${e.status}`]);
    });
    engine.registerRuntime('Hold', hold);
    engine.registerRuntime('Fail', failRuntime);
    engine.registerRuntime('Output', outputRuntime);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('starts once per request id and numbers instances per workflow', async () => {
    const a = await engine.startWorkflow({ workflowId: 'typed', requestId: 'same' });
    const b = await engine.startWorkflow({ workflowId: 'typed', requestId: 'same' });
    const c = await engine.startWorkflow({ workflowId: 'typed', requestId: 'other', params: { n: '7' } });
    expect(a.duplicate).toBe(false);
    expect(b).toMatchObject({ duplicate: true, workflowInstanceId: a.workflowInstanceId });
    expect(c.workflowInstanceId).toBe(a.workflowInstanceId + 1);
    await engine.waitForInstance('typed', c.workflowInstanceId);
    expect((await engine.getRun('typed', c.workflowInstanceId))?.params.n).toEqual({ type: 'LONG', value: 7n });
  });

  it('computes RUN_TS and the date params from a run param, else the fire time in the initiator', async () => {
    const fired = await engine.startWorkflow({
      workflowId: 'typed',
      initiator: { type: 'TIME', fire_time: '2024-03-10T23:30:00.000Z', timezone: 'America/Los_Angeles' },
    });
    await engine.waitForInstance('typed', fired.workflowInstanceId);
    const a = await engine.getRun('typed', fired.workflowInstanceId);
    expect(a?.params.RUN_TS?.value).toBe(BigInt(Date.parse('2024-03-10T23:30:00Z')));
    expect(a?.params.TARGET_RUN_DATE?.value).toBe('20240310');
    expect(a?.params.TARGET_RUN_HOUR?.value).toBe('16');
    const given = await engine.startWorkflow({ workflowId: 'typed', params: { RUN_TS: Date.parse('2024-01-02T03:00:00Z'), WORKFLOW_CRON_TIMEZONE: 'UTC' } });
    await engine.waitForInstance('typed', given.workflowInstanceId);
    const b = await engine.getRun('typed', given.workflowInstanceId);
    expect(b?.params.TARGET_RUN_DATE?.value).toBe('20240102');
    expect(b?.params.TARGET_RUN_HOUR?.value).toBe('03');
  });

  it('refuses unknown workflows and badly typed params with clear errors', async () => {
    await expect(engine.startWorkflow({ workflowId: 'nope' })).rejects.toThrow(new StartError('not_found', 'workflow nope has no active version'));
    await expect(engine.startWorkflow({ workflowId: 'typed', params: { n: 'seven' } })).rejects.toThrow(/param n: expected a whole number \(LONG\)/);
    await expect(engine.startWorkflow({ workflowId: 'typed', version: 9 })).rejects.toThrow('workflow typed has no version 9');
  });

  it('fails a step whose type has no runtime, saying so', async () => {
    const r = await engine.startWorkflow({ workflowId: 'notebook' });
    expect(await engine.waitForInstance('notebook', r.workflowInstanceId)).toBe('FAILED');
    const nb = await engine.getStepAttempt('notebook', r.workflowInstanceId, 'nb');
    expect(nb).toMatchObject({ status: 'FATALLY_FAILED', reason: 'no runtime registered for step type Notebook' });
  });

  it('passes params across steps: getFromStep, step__param, ${} templates, outputs, getFromInstance', async () => {
    const r = await engine.startWorkflow({ workflowId: 'xparams' });
    expect(await engine.waitForInstance('xparams', r.workflowInstanceId)).toBe('SUCCEEDED');
    const p = await engine.getStepAttempt('xparams', r.workflowInstanceId, 'p');
    expect(p?.outputs.doubled?.value).toBe(42n);
    expect(p?.edges).toEqual({ q: true });
    const q = await engine.getStepAttempt('xparams', r.workflowInstanceId, 'q');
    expect(q?.params.viaStep?.value).toBe(42n);
    expect(q?.params.viaName?.value).toBe('x=21');
    expect(q?.params.viaTemplate?.value).toBe('got 21 and 20');
    expect(q?.params.fromInstance?.value).toBe(40n);
    expect(q?.params.step_id?.value).toBe('q');
    expect(q?.timeline.map((e) => e.to)).toEqual(['CREATED', 'INITIALIZED', 'EVALUATING_PARAMS', 'RUNNING', 'SUCCEEDED']);
  });

  it('fails a step whose condition is not a boolean, and an instance whose params cannot be evaluated', async () => {
    const a = await engine.startWorkflow({ workflowId: 'badcond' });
    expect(await engine.waitForInstance('badcond', a.workflowInstanceId)).toBe('FAILED');
    const step = await engine.getStepAttempt('badcond', a.workflowInstanceId, 'a');
    expect(step?.status).toBe('FATALLY_FAILED');
    expect(step?.reason).toMatch(/condition for successor b .* must be true or false/);
    const b = await engine.startWorkflow({ workflowId: 'badparam' });
    expect(await engine.waitForInstance('badparam', b.workflowInstanceId)).toBe('FAILED');
    expect((await engine.getRun('badparam', b.workflowInstanceId))?.reason).toMatch(/workflow params: param oops: .*no way/);
  });

  it('runs at most step_concurrency steps of an instance at once', async () => {
    const r = await engine.startWorkflow({ workflowId: 'conc' });
    const keys = ['a', 'b', 'c', 'd', 'e'].map((s) => `conc/${r.workflowInstanceId}/${s}`);
    const runningHere = () => [...hold.running.keys()].filter((k) => k.startsWith('conc/'));
    for (let done = 0; done < 5; done++) {
      // Wait for as many as the limit lets run (fewer once fewer are left), so a slow machine
      // cannot hide a second permit; then give a third the chance to wrongly start.
      await until(() => runningHere().length >= Math.min(2, 5 - done), 'the permitted conc steps');
      await sleep(30);
      expect(runningHere().length).toBeLessThanOrEqual(2);
      hold.release(runningHere()[0]!);
    }
    expect(await engine.waitForInstance('conc', r.workflowInstanceId)).toBe('SUCCEEDED');
    expect(hold.maxConcurrent).toBe(2);
    expect(keys.every((k) => hold.log.includes(`end ${k}`))).toBe(true);
  });

  it('FAIL_AFTER_RUNNING lets running branches finish; successors of the failed step never start', async () => {
    const r = await engine.startWorkflow({ workflowId: 'fm-fail_after_running' });
    const other = `fm-fail_after_running/${r.workflowInstanceId}/other`;
    await hold.waitRunning(other);
    await until(async () => (await engine.getStepAttempt('fm-fail_after_running', r.workflowInstanceId, 'bad'))?.status === 'USER_FAILED', 'bad to fail');
    expect((await engine.getRun('fm-fail_after_running', r.workflowInstanceId))?.status).toBe('IN_PROGRESS');
    hold.release(other);
    expect(await engine.waitForInstance('fm-fail_after_running', r.workflowInstanceId)).toBe('FAILED');
    const run = await engine.getRun('fm-fail_after_running', r.workflowInstanceId);
    expect(Object.fromEntries(run!.steps.map((s) => [s.stepId, s.status]))).toEqual({ root: 'SUCCEEDED', bad: 'USER_FAILED', other: 'SUCCEEDED', after: 'NOT_CREATED' });
    expect(run?.rollup).toEqual({ SUCCEEDED: 2, USER_FAILED: 1, NOT_CREATED: 1 });
  });

  it('IGNORE_FAILURE completes with error and carries on', async () => {
    const r = await engine.startWorkflow({ workflowId: 'fm-ignore_failure' });
    const other = `fm-ignore_failure/${r.workflowInstanceId}/other`;
    await hold.waitRunning(other);
    hold.release(other);
    expect(await engine.waitForInstance('fm-ignore_failure', r.workflowInstanceId)).toBe('SUCCEEDED');
    const run = await engine.getRun('fm-ignore_failure', r.workflowInstanceId);
    expect(Object.fromEntries(run!.steps.map((s) => [s.stepId, s.status]))).toEqual({ root: 'SUCCEEDED', bad: 'COMPLETED_WITH_ERROR', other: 'SUCCEEDED', after: 'SUCCEEDED' });
  });

  it('FAIL_IMMEDIATELY stops the running siblings and fails the instance', async () => {
    const r = await engine.startWorkflow({ workflowId: 'fm-fail_immediately' });
    const other = `fm-fail_immediately/${r.workflowInstanceId}/other`;
    expect(await engine.waitForInstance('fm-fail_immediately', r.workflowInstanceId)).toBe('FAILED');
    const run = await engine.getRun('fm-fail_immediately', r.workflowInstanceId);
    expect(run?.steps.find((s) => s.stepId === 'bad')?.status).toBe('USER_FAILED');
    expect(run?.steps.find((s) => s.stepId === 'after')?.status).toBe('NOT_CREATED');
    // `other` was stopped whether or not its runtime had been called yet.
    expect(run?.steps.find((s) => s.stepId === 'other')?.status).toMatch(/STOPPED|NOT_CREATED/);
    await until(() => !hold.running.has(other), 'other to be aborted');
  });

  it('stops an instance: its running step is aborted and marked STOPPED', async () => {
    const r = await engine.startWorkflow({ workflowId: 'seq', requestId: 'to-stop' });
    const key = `seq/${r.workflowInstanceId}/hold`;
    await hold.waitRunning(key);
    expect(await engine.stopInstance('seq', r.workflowInstanceId)).toBe(true);
    await until(() => hold.aborted.includes(key), 'the runtime to be aborted');
    expect(await engine.waitForInstance('seq', r.workflowInstanceId)).toBe('STOPPED');
    const step = await engine.getStepAttempt('seq', r.workflowInstanceId, 'hold');
    expect(step?.status).toBe('STOPPED');
    expect(step?.timeline.at(-1)).toMatchObject({ from: 'RUNNING', to: 'STOPPED', message: 'stopped by request' });
    expect(await engine.stopInstance('seq', r.workflowInstanceId)).toBe(false);
  });

  it('SEQUENTIAL runs instances one at a time, first in first out', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await engine.startWorkflow({ workflowId: 'seq', requestId: `seq-${i}` })).workflowInstanceId);
    for (const id of ids) {
      await hold.waitRunning(`seq/${id}/hold`);
      await sleep(50);
      expect([...hold.running.keys()].filter((k) => k.startsWith('seq/'))).toEqual([`seq/${id}/hold`]);
      hold.release(`seq/${id}/hold`);
      expect(await engine.waitForInstance('seq', id)).toBe('SUCCEEDED');
    }
  });

  it('STRICT_SEQUENTIAL blocks later runs after a failure until unblocked', async () => {
    const failed = await engine.startWorkflow({ workflowId: 'strict-fail' });
    expect(await engine.waitForInstance('strict-fail', failed.workflowInstanceId)).toBe('FAILED');
    const next = await engine.startWorkflow({ workflowId: 'strict-fail', params: { fail: false } });
    await sleep(300);
    expect((await engine.getRun('strict-fail', next.workflowInstanceId))?.status).toBe('CREATED');
    expect(await engine.unblock('strict-fail')).toBe(true);
    expect(await engine.waitForInstance('strict-fail', next.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('FIRST_ONLY drops new runs while one runs', async () => {
    const a = await engine.startWorkflow({ workflowId: 'first' });
    await hold.waitRunning(`first/${a.workflowInstanceId}/hold`);
    const b = await engine.startWorkflow({ workflowId: 'first' });
    expect(await engine.waitForInstance('first', b.workflowInstanceId)).toBe('STOPPED');
    expect((await engine.getRun('first', b.workflowInstanceId))?.reason).toMatch(/FIRST_ONLY/);
    hold.release(`first/${a.workflowInstanceId}/hold`);
    expect(await engine.waitForInstance('first', a.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('LAST_ONLY stops the running instance in favour of the newest', async () => {
    const a = await engine.startWorkflow({ workflowId: 'last' });
    await hold.waitRunning(`last/${a.workflowInstanceId}/hold`);
    const b = await engine.startWorkflow({ workflowId: 'last' });
    expect(await engine.waitForInstance('last', a.workflowInstanceId)).toBe('STOPPED');
    await hold.waitRunning(`last/${b.workflowInstanceId}/hold`);
    hold.release(`last/${b.workflowInstanceId}/hold`);
    expect(await engine.waitForInstance('last', b.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('SERIAL_LATEST_ONLY runs one at a time and keeps only the newest queued instance', async () => {
    const a = await engine.startWorkflow({ workflowId: 'serial-latest' });
    await hold.waitRunning(`serial-latest/${a.workflowInstanceId}/hold`);
    const b = await engine.startWorkflow({ workflowId: 'serial-latest' });
    const c = await engine.startWorkflow({ workflowId: 'serial-latest' });
    // The running one goes on; the older queued one is stopped, naming the one that replaced it.
    expect(await engine.waitForInstance('serial-latest', b.workflowInstanceId)).toBe('STOPPED');
    expect((await engine.getRun('serial-latest', b.workflowInstanceId))?.reason).toBe(`SERIAL_LATEST_ONLY run strategy: superseded by instance ${c.workflowInstanceId}`);
    await sleep(100);
    expect((await engine.getRun('serial-latest', a.workflowInstanceId))?.status).toBe('IN_PROGRESS');
    expect((await engine.getRun('serial-latest', c.workflowInstanceId))?.status).toBe('CREATED');
    expect([...hold.running.keys()].filter((k) => k.startsWith('serial-latest/'))).toEqual([`serial-latest/${a.workflowInstanceId}/hold`]);
    hold.release(`serial-latest/${a.workflowInstanceId}/hold`);
    expect(await engine.waitForInstance('serial-latest', a.workflowInstanceId)).toBe('SUCCEEDED');
    await hold.waitRunning(`serial-latest/${c.workflowInstanceId}/hold`);
    hold.release(`serial-latest/${c.workflowInstanceId}/hold`);
    expect(await engine.waitForInstance('serial-latest', c.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('PARALLEL runs up to workflow_concurrency instances at once', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await engine.startWorkflow({ workflowId: 'par' })).workflowInstanceId);
    await hold.waitRunning(`par/${ids[0]}/hold`);
    await hold.waitRunning(`par/${ids[1]}/hold`);
    await sleep(100);
    expect((await engine.getRun('par', ids[2]!))?.status).toBe('CREATED');
    hold.release(`par/${ids[0]}/hold`);
    await hold.waitRunning(`par/${ids[2]}/hold`);
    hold.release(`par/${ids[1]}/hold`);
    await hold.waitRunning(`par/${ids[3]}/hold`);
    hold.release(`par/${ids[2]}/hold`);
    hold.release(`par/${ids[3]}/hold`);
    for (const id of ids) expect(await engine.waitForInstance('par', id)).toBe('SUCCEEDED');
    expect(hold.maxConcurrent).toBeGreaterThanOrEqual(2);
  });

  it('offers ports: SEL host extensions, step and instance completion hooks in the same transaction', async () => {
    const r = await engine.startWorkflow({ workflowId: 'ports' });
    expect(await engine.waitForInstance('ports', r.workflowInstanceId)).toBe('SUCCEEDED');
    const events = await t.db.query<{ what: string }>('SELECT what FROM test_hook_events ORDER BY what');
    expect(events.rows.map((e) => e.what)).toEqual([`instance ${r.workflowInstanceId} SUCCEEDED`, 'step a SUCCEEDED 42', 'step b SUCCEEDED -']);
    expect(() => engine.registerSelExtension('bad name', { call: () => null })).toThrow('not a valid SEL method name: bad name');
  });

  it('lists instances newest first, page by page', async () => {
    const first = await engine.listInstances('typed', { limit: 3 });
    expect(first.items.map((i) => i.instanceId)).toEqual([4, 3, 2]);
    expect(first.nextCursor).toBe(2);
    const second = await engine.listInstances('typed', { limit: 3, before: first.nextCursor });
    expect(second.items.map((i) => i.instanceId)).toEqual([1]);
    expect(second.nextCursor).toBeUndefined();
    expect(second.items[0]).toMatchObject({ workflowId: 'typed', status: 'SUCCEEDED', requestId: 'same', runId: 1 });
  });

  it('never moved a status backwards and had no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});
