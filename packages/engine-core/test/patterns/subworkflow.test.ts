import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { decodeParams } from '../../src/runtime/params.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';
import { loadSample } from '../runtime/support/samples.js';

const SAMPLES = [
  'sample-dag-test-3',
  'sample-foreach-wf',
  'sample-subworkflow-wf',
  'sample-nested-subworkflow-wf',
  'sample-nested-foreach-subworkflow-wf',
  'sample-nested-subworkflow-foreach-wf',
  'sample-mixed-wf',
];

describe('subworkflow on PGlite', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();

  /** Child runs started by a step of an instance, with their run params. */
  const children = async (workflowId: string, instanceId: number, stepId: string) =>
    (
      await t.db.query<{ workflow_id: string; version: number; status: string; run_params: unknown }>(
        `SELECT c.workflow_id, c.version, c.status, c.run_params FROM baton_workflow_instances p
         JOIN baton_step_attempts a ON a.instance_pk = p.id AND a.step_id = $3
         JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
         WHERE p.workflow_id = $1 AND p.instance_id = $2 ORDER BY c.id`,
        [workflowId, instanceId, stepId],
      )
    ).rows;

  beforeAll(async () => {
    t = await openTestDb('pglite');
    for (const name of SAMPLES) defs.add(loadSample(name));
    defs.add(workflow({ workflow: { id: 'leaf', params: { who: { value: 'nobody', type: 'STRING' } }, steps: [{ step: { id: 'hello', type: 'NoOp', params: { greeting: { expression: "'hi ' + who", type: 'STRING' } } } }] } }));
    defs.add(workflow({ workflow: { id: 'leaf', params: { who: { value: 'nobody', type: 'STRING' } }, steps: [{ step: { id: 'hello', type: 'NoOp', params: { greeting: { expression: "'hello ' + who", type: 'STRING' } } } }] } }));
    defs.add(workflow({ workflow: { id: 'broken', steps: [{ step: { id: 'bad', type: 'Sleep', params: { sleep_seconds: { value: 'soon', type: 'STRING' } } } }] } }));
    defs.add(
      workflow({
        workflow: {
          id: 'caller',
          params: { who: { value: 'alice', type: 'STRING' }, target: { value: 'le', type: 'STRING' } },
          steps: [
            // id and version computed in SEL; all params passed down (who = alice)
            { subworkflow: { id: 'all', params: { subworkflow_id: { expression: "target + 'af'", type: 'STRING' }, subworkflow_version: { expression: '1', type: 'LONG' } } } },
            // explicit_params: only its own params go down (who = bob), active version (2)
            { step: { id: 'report', type: 'NoOp', params: { got: { expression: "params.getFromSubworkflow('explicit', 'hello', 'greeting')", type: 'STRING' } } } },
            { subworkflow: { id: 'explicit', explicit_params: true, transition: { successors: { report: 'true' } }, params: { subworkflow_id: { value: 'leaf', type: 'STRING' }, who: { value: 'bob', type: 'STRING' } } } },
            // explicit_params without params: the child's default (who = nobody)
            { subworkflow: { id: 'bare', explicit_params: true, params: { subworkflow_id: { value: 'leaf', type: 'STRING' } } } },
          ],
        },
      }),
    );
    defs.add(workflow({ workflow: { id: 'caller-of-broken', steps: [{ subworkflow: { id: 'sub', params: { subworkflow_id: { value: 'broken', type: 'STRING' } } } }] } }));
    defs.add(workflow({ workflow: { id: 'caller-of-missing', steps: [{ subworkflow: { id: 'sub', params: { subworkflow_id: { value: 'no-such-wf', type: 'STRING' } } } }] } }));
    defs.add(workflow({ properties: { run_strategy: 'parallel' }, workflow: { id: 'recursive', steps: [{ subworkflow: { id: 'again', params: { subworkflow_id: { value: 'recursive', type: 'STRING' } } } }] } }));
    // As Maestro runs them: validators kept, not checked (sample-nested-foreach-subworkflow-wf
    // breaks its own; validators.test.ts shows the enforced outcome).
    ({ engine, errors } = testEngine(t.db, defs, { subworkflowDepthLimit: 3, paramValidators: 'ignore' }));
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('id and version from SEL, all params vs explicit_params, outputs name the child', async () => {
    const s = await engine.startWorkflow({ workflowId: 'caller' });
    expect(await engine.waitForInstance('caller', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    const greeting = async (stepId: string) => {
      const kid = (await children('caller', s.workflowInstanceId, stepId))[0]!;
      expect(kid.status).toBe('SUCCEEDED');
      const id = (await engine.getStepAttempt('caller', s.workflowInstanceId, stepId))!.outputs.subworkflow_instance_id!.value;
      const hello = await engine.getStepAttempt('leaf', Number(id), 'hello');
      return [kid.version, hello?.params.greeting?.value];
    };
    expect(await greeting('all')).toEqual([1, 'hi alice']);
    expect(await greeting('explicit')).toEqual([2, 'hello bob']);
    expect(await greeting('bare')).toEqual([2, 'hello nobody']);
    const explicitKid = (await children('caller', s.workflowInstanceId, 'explicit'))[0]!;
    expect(Object.keys(decodeParams(explicitKid.run_params))).toEqual(['who']);
    expect((await engine.getStepAttempt('caller', s.workflowInstanceId, 'report'))?.params.got?.value).toBe('hello bob');
    expect(errors).toEqual([]);
  });

  it("a failed child fails the step with the child's reason; an unknown workflow fails it before starting", async () => {
    const s = await engine.startWorkflow({ workflowId: 'caller-of-broken' });
    expect(await engine.waitForInstance('caller-of-broken', s.workflowInstanceId, 20_000)).toBe('FAILED');
    const step = await engine.getStepAttempt('caller-of-broken', s.workflowInstanceId, 'sub');
    expect(step?.status).toBe('USER_FAILED');
    expect(step?.reason).toMatch(/^subworkflow broken\/1 ended FAILED: step bad ended USER_FAILED$/);
    const m = await engine.startWorkflow({ workflowId: 'caller-of-missing' });
    expect(await engine.waitForInstance('caller-of-missing', m.workflowInstanceId, 20_000)).toBe('FAILED');
    expect((await engine.getStepAttempt('caller-of-missing', m.workflowInstanceId, 'sub'))?.reason).toBe('subworkflow no-such-wf has no active version');
  });

  it('stops nesting at the depth limit', async () => {
    const s = await engine.startWorkflow({ workflowId: 'recursive' });
    expect(await engine.waitForInstance('recursive', s.workflowInstanceId, 20_000)).toBe('FAILED');
    const runs = await t.db.query<{ instance_id: number; status: string }>(`SELECT instance_id, status FROM baton_workflow_instances WHERE workflow_id = 'recursive' ORDER BY instance_id`);
    expect(runs.rows.map((r) => r.status)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED']);
    const deepest = await engine.getStepAttempt('recursive', 4, 'again');
    expect(deepest?.reason).toBe('subworkflow recursive would nest 4 levels deep (the limit is 3)');
  });

  it.each(['sample-subworkflow-wf', 'sample-nested-subworkflow-wf', 'sample-nested-foreach-subworkflow-wf', 'sample-nested-subworkflow-foreach-wf', 'sample-mixed-wf'])(
    '%s succeeds, every subworkflow step with a succeeded child',
    async (name) => {
      const s = await engine.startWorkflow({ workflowId: name });
      expect(await engine.waitForInstance(name, s.workflowInstanceId, 60_000)).toBe('SUCCEEDED');
      const run = await engine.getRun(name, s.workflowInstanceId);
      expect(run!.steps.every((x) => x.status === 'SUCCEEDED')).toBe(true);
      const open = await t.db.query(`SELECT id FROM baton_workflow_instances WHERE status NOT IN ('SUCCEEDED', 'FAILED', 'STOPPED')`);
      // sync: false children may still run; every synchronous one has ended.
      expect(open.rows.length).toBeLessThanOrEqual(1);
      expect(errors).toEqual([]);
    },
    70_000,
  );

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});
