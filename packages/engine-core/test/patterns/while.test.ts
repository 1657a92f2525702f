import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { decodeParams } from '../../src/runtime/params.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';
import { loadSample } from '../runtime/support/samples.js';

describe('while on PGlite', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();

  const counting = (id: string, condition: string) =>
    workflow({
      workflow: {
        id,
        steps: [
          {
            while: {
              id: 'loop',
              condition,
              params: {
                step_by: { value: 2, type: 'LONG' },
                loop_params: { type: 'MAP', value: { n: { value: 0, type: 'LONG' }, trail: { value: '', type: 'STRING' } } },
              },
              steps: [
                { step: { id: 'add', type: 'NoOp', params: { n: { expression: 'n + step_by', type: 'LONG' } }, transition: { successors: { note: 'true' } } } },
                { step: { id: 'note', type: 'NoOp', params: { trail: { expression: "trail + '/' + loop_index + ':' + add__n", type: 'STRING' } } } },
              ],
              transition: { successors: { after: 'true' } },
            },
          },
          { step: { id: 'after', type: 'NoOp', params: { seen: { expression: "params.getFromStep('loop', 'trail')", type: 'STRING' } } } },
        ],
      },
    });

  beforeAll(async () => {
    t = await openTestDb('pglite');
    defs.add(loadSample('sample-while-wf'));
    defs.add(counting('count-to-six', 'n < 6'));
    defs.add(counting('count-forever', 'n >= 0'));
    defs.add(counting('count-bad-condition', 'trail'));
    ({ engine, errors } = testEngine(t.db, defs, { whileIterationLimit: 4 }));
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  const iterationParams = async (workflowId: string, instanceId: number) =>
    (
      await t.db.query<{ params: unknown }>(
        `SELECT c.params FROM baton_workflow_instances p JOIN baton_step_attempts a ON a.instance_pk = p.id
         JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
         WHERE p.workflow_id = $1 AND p.instance_id = $2 ORDER BY c.iteration`,
        [workflowId, instanceId],
      )
    ).rows.map((r) => decodeParams(r.params));

  it("sample-while-wf: i is carried from each iteration's step to the next condition check", async () => {
    const s = await engine.startWorkflow({ workflowId: 'sample-while-wf' });
    expect(await engine.waitForInstance('sample-while-wf', s.workflowInstanceId, 20_000)).toBe('FAILED');
    // The engine's limit here is 4 iterations; i would need 5 (20200101 … 20200105).
    const attempt = await engine.getStepAttempt('sample-while-wf', s.workflowInstanceId, 'while-job');
    expect(attempt?.reason).toBe('while step while-job reached its iteration limit (4) with the condition still true');
    expect((await iterationParams('sample-while-wf', s.workflowInstanceId)).map((p) => p.i?.value)).toEqual([20200101n, 20200102n, 20200103n, 20200104n]);
  });

  it('runs until the condition is false, each iteration starting from the values the last one left', async () => {
    const s = await engine.startWorkflow({ workflowId: 'count-to-six' });
    expect(await engine.waitForInstance('count-to-six', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    const its = await iterationParams('count-to-six', s.workflowInstanceId);
    expect(its.map((p) => [p.loop_index?.value, p.n?.value, p.trail?.value])).toEqual([
      [0n, 0n, ''],
      [1n, 2n, '/0:2'],
      [2n, 4n, '/0:2/1:4'],
    ]);
    // The stored loop_params MAP keeps LONGs typed (they once read back as strings).
    expect(its.map((p) => p.loop_params?.value)).toEqual([
      { n: 0n, trail: '' },
      { n: 2n, trail: '/0:2' },
      { n: 4n, trail: '/0:2/1:4' },
    ]);
    const loop = await engine.getStepAttempt('count-to-six', s.workflowInstanceId, 'loop');
    expect(loop?.reason).toBe('condition false after 3 iterations');
    expect(loop?.params.n?.value).toBe(6n);
    const after = await engine.getStepAttempt('count-to-six', s.workflowInstanceId, 'after');
    expect(after?.params.seen?.value).toBe('/0:2/1:4/2:6');
    expect(errors).toEqual([]);
  });

  it('fails at the iteration limit, and on a condition that is not a boolean', async () => {
    const f = await engine.startWorkflow({ workflowId: 'count-forever' });
    expect(await engine.waitForInstance('count-forever', f.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(await iterationParams('count-forever', f.workflowInstanceId)).toHaveLength(4);
    const b = await engine.startWorkflow({ workflowId: 'count-bad-condition' });
    expect(await engine.waitForInstance('count-bad-condition', b.workflowInstanceId, 20_000)).toBe('FAILED');
    const attempt = await engine.getStepAttempt('count-bad-condition', b.workflowInstanceId, 'loop');
    expect(attempt?.status).toBe('USER_FAILED');
    expect(attempt?.reason).toBe('while condition (trail) must be true or false, got ');
  });

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});

describe('sample-while-wf with the default limit', () => {
  it('runs five iterations and succeeds', async () => {
    const t = await openTestDb('pglite');
    const defs = new InMemoryDefinitions();
    defs.add(loadSample('sample-while-wf'));
    const { engine, errors } = testEngine(t.db, defs);
    await engine.start();
    try {
      const s = await engine.startWorkflow({ workflowId: 'sample-while-wf' });
      expect(await engine.waitForInstance('sample-while-wf', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
      const attempt = await engine.getStepAttempt('sample-while-wf', s.workflowInstanceId, 'while-job');
      expect(attempt?.reason).toBe('condition false after 5 iterations');
      expect(attempt?.params.i?.value).toBe(20200106n);
      expect(errors).toEqual([]);
    } finally {
      await engine.stop();
      await t.close();
    }
  });
});
