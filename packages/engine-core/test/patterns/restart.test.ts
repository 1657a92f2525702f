import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { RestartError } from '../../src/runtime/restart.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';

describe('restart from failed steps on PGlite', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const calls: string[] = [];
  let failB = true;
  const counted: StepRuntime = {
    async run(p, ctx) {
      calls.push(`${ctx.runId}:${ctx.stepId}`);
      if (ctx.stepId === 'each') calls.push(`x=${String(p.x)}`);
      const fails = (ctx.stepId === 'b' || (ctx.stepId === 'each' && p.x === 2n)) && failB;
      return fails ? { status: 'USER_FAILED', message: `${ctx.stepId} fails the first time` } : { status: 'SUCCEEDED' };
    },
  };

  beforeAll(async () => {
    t = await openTestDb('pglite');
    defs.add(
      workflow({
        workflow: {
          id: 'chain',
          steps: [
            { step: { id: 'a', type: 'Counted', transition: { successors: { b: 'true', skipped: 'false' } } } },
            { step: { id: 'b', type: 'Counted', transition: { successors: { c: 'true' } } } },
            { step: { id: 'c', type: 'Counted' } },
            { step: { id: 'skipped', type: 'Counted' } },
          ],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'loop',
          steps: [
            {
              foreach: {
                id: 'loop',
                concurrency: 1,
                params: { loop_params: { type: 'MAP', value: { x: { value: [1, 2, 3, 4], type: 'LONG_ARRAY' } } } },
                steps: [{ step: { id: 'each', type: 'Counted' } }],
              },
            },
          ],
        },
      }),
    );
    ({ engine, errors } = testEngine(t.db, defs));
    engine.registerRuntime('Counted', counted);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('runs a new run in which only the failed step and what follows it run', async () => {
    const s = await engine.startWorkflow({ workflowId: 'chain' });
    expect(await engine.waitForInstance('chain', s.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(calls).toEqual(['1:a', '1:b']);
    await expect(engine.restartInstance('nope', 1)).rejects.toThrow(RestartError);

    failB = false;
    const r = await engine.restartInstance('chain', s.workflowInstanceId);
    expect(r).toEqual({ workflowId: 'chain', workflowInstanceId: s.workflowInstanceId, runId: 2, carried: ['a', 'skipped'] });
    expect(await engine.waitForInstance('chain', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    expect(calls).toEqual(['1:a', '1:b', '2:b', '2:c']);

    const run2 = await engine.getRun('chain', s.workflowInstanceId);
    expect(run2?.runId).toBe(2);
    expect(Object.fromEntries(run2!.steps.map((x) => [x.stepId, x.status]))).toEqual({ a: 'SUCCEEDED', b: 'SUCCEEDED', c: 'SUCCEEDED', skipped: 'UNSATISFIED' });
    const run1 = await engine.getRun('chain', s.workflowInstanceId, 1);
    expect(run1?.status).toBe('FAILED');
    const carried = await t.db.query<{ message: string }>(
      `SELECT tl.message FROM baton_step_timeline tl JOIN baton_step_attempts a ON a.id = tl.attempt_pk
       JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE i.run_id = 2 AND a.step_id = 'a'`,
    );
    expect(carried.rows.map((x) => x.message)).toEqual(['carried over from run 1']);

    await expect(engine.restartInstance('chain', s.workflowInstanceId)).rejects.toThrow(/run 2 is SUCCEEDED: only a failed, stopped or timed-out run can be restarted/);
    expect(errors).toEqual([]);
  });

  it('a restarted foreach runs only the iterations that did not succeed', async () => {
    failB = true;
    calls.length = 0;
    const s = await engine.startWorkflow({ workflowId: 'loop' });
    expect(await engine.waitForInstance('loop', s.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(calls.filter((c) => c.startsWith('x='))).toEqual(['x=1', 'x=2', 'x=3', 'x=4']);
    failB = false;
    calls.length = 0;
    await engine.restartInstance('loop', s.workflowInstanceId);
    expect(await engine.waitForInstance('loop', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.startsWith('x='))).toEqual(['x=2']);
    expect((await engine.getStepAttempt('loop', s.workflowInstanceId, 'loop'))?.reason).toBe('4 iterations: 4 succeeded, 0 failed, 0 stopped');
  });

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});
