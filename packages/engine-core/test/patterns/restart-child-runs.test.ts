import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { RestartError } from '../../src/runtime/restart.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';

/**
 * A subworkflow run or loop iteration restarted on its own: refused with the parent to restart
 * instead (never a unique-index clash, never a run left open); restarting the parent runs the
 * failed subworkflow step again, which starts a new child run that succeeds.
 */
describe.each(['pglite', 'postgres'] as const)('restart of a child run on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  let fail = true;
  const flaky: StepRuntime = {
    async run() {
      return fail ? { status: 'USER_FAILED', message: 'flaky fails while told to' } : { status: 'SUCCEEDED' };
    },
  };

  /** The child runs (instance id, run id, status) a step of an instance started, oldest first. */
  const children = async (workflowId: string, instanceId: number, stepId: string) =>
    (
      await t.db.query<{ workflow_id: string; instance_id: string | number; run_id: number; status: string }>(
        `SELECT c.workflow_id, c.instance_id, c.run_id, c.status FROM baton_workflow_instances p
         JOIN baton_step_attempts a ON a.instance_pk = p.id AND a.step_id = $3
         JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
         WHERE p.workflow_id = $1 AND p.instance_id = $2 ORDER BY c.id`,
        [workflowId, instanceId, stepId],
      )
    ).rows.map((r) => ({ ...r, instance_id: Number(r.instance_id) }));

  beforeAll(async () => {
    t = await openTestDb(kind);
    defs.add(workflow({ workflow: { id: 'rc-child', steps: [{ step: { id: 'work', type: 'Flaky' } }] } }));
    defs.add(workflow({ workflow: { id: 'rc-parent', steps: [{ subworkflow: { id: 'call', params: { subworkflow_id: { value: 'rc-child', type: 'STRING' } } } }] } }));
    defs.add(
      workflow({
        workflow: {
          id: 'rc-loop',
          steps: [{ foreach: { id: 'fan', params: { loop_params: { type: 'MAP', value: { x: { value: [1, 2], type: 'LONG_ARRAY' } } } }, steps: [{ step: { id: 'each', type: 'Flaky' } }] } }],
        },
      }),
    );
    ({ engine, errors } = testEngine(t.db, defs));
    engine.registerRuntime('Flaky', flaky);
    await engine.start();
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('refuses a failed subworkflow run, naming the parent step to restart; the parent restart runs a new child', async () => {
    fail = true;
    const p = await engine.startWorkflow({ workflowId: 'rc-parent' });
    expect(await engine.waitForInstance('rc-parent', p.workflowInstanceId, 20_000)).toBe('FAILED');
    const [child] = await children('rc-parent', p.workflowInstanceId, 'call');
    expect(child).toMatchObject({ workflow_id: 'rc-child', run_id: 1, status: 'FAILED' });

    fail = false;
    const refused = await engine.restartInstance('rc-child', child!.instance_id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RestartError);
    const err = refused as RestartError;
    expect(err.code).toBe('child_run');
    expect(err.message).toContain(`rc-child #${child!.instance_id} is a subworkflow run started by step call of rc-parent #${p.workflowInstanceId} (run 1)`);
    expect(err.message).toContain(`Restart rc-parent #${p.workflowInstanceId} from its failed steps instead`);
    expect(err.parent).toMatchObject({ kind: 'SUBWORKFLOW', workflowId: 'rc-parent', instanceId: p.workflowInstanceId, runId: 1, stepId: 'call' });
    // Nothing was started or left open by the refused restart.
    expect(await children('rc-parent', p.workflowInstanceId, 'call')).toEqual([child]);
    const open = await t.db.query(`SELECT 1 FROM baton_workflow_instances WHERE workflow_id = 'rc-child' AND status NOT IN ('FAILED', 'SUCCEEDED', 'STOPPED', 'TIMED_OUT')`);
    expect(open.rows).toEqual([]);

    // What the refusal says to do works: the parent's restart runs step call again, a new child run.
    const r = await engine.restartInstance('rc-parent', p.workflowInstanceId);
    expect(r.runId).toBe(2);
    expect(await engine.waitForInstance('rc-parent', p.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    const after = await children('rc-parent', p.workflowInstanceId, 'call');
    expect(after.map((c) => [c.run_id, c.status])).toEqual([
      [1, 'FAILED'],
      [1, 'SUCCEEDED'],
    ]);
    expect(after[1]!.instance_id).not.toBe(child!.instance_id);
    expect(errors).toEqual([]);
  });

  it('refuses a failed loop iteration the same way', async () => {
    fail = true;
    const s = await engine.startWorkflow({ workflowId: 'rc-loop' });
    expect(await engine.waitForInstance('rc-loop', s.workflowInstanceId, 20_000)).toBe('FAILED');
    const [iteration] = await children('rc-loop', s.workflowInstanceId, 'fan');
    expect(iteration).toMatchObject({ workflow_id: 'rc-loop#fan', status: 'FAILED' });
    const err = (await engine.restartInstance('rc-loop#fan', iteration!.instance_id).catch((e: unknown) => e)) as RestartError;
    expect(err).toBeInstanceOf(RestartError);
    expect(err.code).toBe('child_run');
    expect(err.message).toMatch(new RegExp(`is iteration \\d of foreach step fan of rc-loop #${s.workflowInstanceId} \\(run 1\\)`));
    expect(errors).toEqual([]);
  });

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});
