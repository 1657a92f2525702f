import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { loopAndSubworkflowSteps, stepStatuses } from '../runtime/support/abort-tree.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, runsUntilAborted, testEngine, workflow } from '../runtime/support/engine.js';

/** Runs until its attempt is aborted, so only the kill (or stop) can end it. */
const aborted: string[] = [];
const hang = runsUntilAborted((ctx) => aborted.push(`${ctx.workflowId}/${ctx.instanceId}/${ctx.stepId}`));
const hangStep = (id: string, successors?: Record<string, string>) => ({ step: { id, type: 'Hang', ...(successors ? { transition: { successors } } : {}) } });

describe.each<DbKind>(['pglite', 'postgres'])('instance kill on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const completed: string[] = [];

  beforeAll(async () => {
    aborted.length = 0;
    t = await openTestDb(kind);
    defs.add(workflow({ properties: { run_strategy: 'parallel' }, workflow: { id: 'two', steps: [hangStep('a', { after: 'true' }), hangStep('b'), { step: { id: 'after', type: 'NoOp' } }] } }));
    defs.add(
      workflow({
        properties: { run_strategy: 'parallel' },
        workflow: {
          id: 'parent',
          steps: loopAndSubworkflowSteps(hangStep('inner')),
        },
      }),
    );
    defs.add(workflow({ properties: { run_strategy: 'parallel' }, workflow: { id: 'child', steps: [hangStep('deep')] } }));
    defs.add(workflow({ properties: { run_strategy: 'strict_sequential' }, workflow: { id: 'strict', steps: [hangStep('a')] } }));
    ({ engine, errors } = testEngine(t.db, defs, { pollMs: 50 }));
    engine.registerRuntime('Hang', hang);
    engine.onStepCompleted(async (_tx, _outbox, e) => {
      completed.push(`${e.workflowId}/${e.instanceId}/${e.stepId}:${e.status}`);
    });
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  const instance = async (workflowId: string, instanceId: number) =>
    (
      await t.db.query<{ id: number; status: string; reason: string | null }>(
        'SELECT id, status, reason FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 ORDER BY run_id DESC LIMIT 1',
        [workflowId, instanceId],
      )
    ).rows[0]!;
  const steps = (instancePk: number) => stepStatuses(t.db, instancePk);
  const running = (pk: number, ...ids: string[]) =>
    expect
      .poll(async () => {
        const s = await steps(pk);
        return ids.every((id) => s[id] === 'RUNNING: null');
      }, { timeout: 10_000 })
      .toBe(true);

  it('ends a running instance FAILED, its running steps FATALLY_FAILED and aborted, and the DAG goes no further', async () => {
    const s = await engine.startWorkflow({ workflowId: 'two' });
    const pk = (await instance('two', s.workflowInstanceId)).id;
    await running(pk, 'a', 'b');
    expect(await engine.killInstance('two', s.workflowInstanceId, 'runaway job')).toBe(true);
    expect(await engine.waitForInstance('two', s.workflowInstanceId, 10_000)).toBe('FAILED');
    expect(await instance('two', s.workflowInstanceId)).toMatchObject({ status: 'FAILED', reason: 'runaway job' });
    expect(await steps(pk)).toEqual({ a: 'FATALLY_FAILED: runaway job', b: 'FATALLY_FAILED: runaway job' });
    await expect.poll(() => aborted.filter((x) => x.startsWith(`two/${s.workflowInstanceId}/`)).sort()).toEqual([`two/${s.workflowInstanceId}/a`, `two/${s.workflowInstanceId}/b`]);
    // Step completion hooks hear of each killed step, as for a step kill.
    expect(completed.filter((c) => c.startsWith(`two/${s.workflowInstanceId}/`)).sort()).toEqual([
      `two/${s.workflowInstanceId}/a:FATALLY_FAILED`,
      `two/${s.workflowInstanceId}/b:FATALLY_FAILED`,
    ]);
    const timeline = await t.db.query<{ to_status: string; message: string }>('SELECT to_status, message FROM baton_instance_timeline WHERE instance_pk = $1 ORDER BY id', [pk]);
    expect(timeline.rows.at(-1)).toEqual({ to_status: 'FAILED', message: 'runaway job' });
    // Nothing runs after it: `after` was never created.
    await new Promise((r) => setTimeout(r, 300));
    expect(Object.keys(await steps(pk)).sort()).toEqual(['a', 'b']);
  });

  it('kills the loop iterations and subworkflow runs below the instance', async () => {
    const s = await engine.startWorkflow({ workflowId: 'parent' });
    const pk = (await instance('parent', s.workflowInstanceId)).id;
    await expect
      .poll(async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_step_attempts WHERE step_id IN ('inner', 'deep') AND status = 'RUNNING'`)).rows[0]!.n, { timeout: 10_000 })
      .toBe(4);
    expect(await engine.killInstance('parent', s.workflowInstanceId)).toBe(true);
    const reason = 'killed by request';
    const children = await t.db.query<{ id: number; workflow_id: string; status: string; reason: string }>(
      `SELECT c.id, c.workflow_id, c.status, c.reason FROM baton_workflow_instances c JOIN baton_step_attempts a ON a.id = c.parent_attempt_pk
       WHERE a.instance_pk = $1 ORDER BY c.id`,
      [pk],
    );
    expect(children.rows.map((c) => c.workflow_id).sort()).toEqual(['child', 'parent#loop', 'parent#loop', 'parent#loop']);
    for (const c of children.rows) {
      expect([c.status, c.reason]).toEqual(['FAILED', reason]);
      expect(Object.values(await steps(c.id))).toEqual([`FATALLY_FAILED: ${reason}`]);
    }
    expect(await steps(pk)).toEqual({ loop: `FATALLY_FAILED: ${reason}`, sub: `FATALLY_FAILED: ${reason}` });
    await expect.poll(() => aborted.filter((x) => /\/(inner|deep)$/.test(x)).length).toBe(4);
  });

  it('STRICT_SEQUENTIAL takes a kill as a failure: the queue behind it stays blocked until unblocked', async () => {
    const first = await engine.startWorkflow({ workflowId: 'strict' });
    const second = await engine.startWorkflow({ workflowId: 'strict' });
    await expect.poll(async () => (await instance('strict', first.workflowInstanceId)).status).toBe('IN_PROGRESS');
    expect(await engine.killInstance('strict', first.workflowInstanceId)).toBe(true);
    expect(await engine.waitForInstance('strict', first.workflowInstanceId)).toBe('FAILED');
    await new Promise((r) => setTimeout(r, 500));
    expect((await instance('strict', second.workflowInstanceId)).status).toBe('CREATED');
    const state = await t.db.query<{ blocked_by_instance: number | null }>('SELECT blocked_by_instance FROM baton_workflow_state WHERE workflow_id = $1', ['strict']);
    expect(Number(state.rows[0]!.blocked_by_instance)).toBe(first.workflowInstanceId);
    // A stop, by contrast, does not block: unblock, then stop the second and see a third start.
    expect(await engine.unblock('strict')).toBe(true);
    await expect.poll(async () => (await instance('strict', second.workflowInstanceId)).status).toBe('IN_PROGRESS');
    const third = await engine.startWorkflow({ workflowId: 'strict' });
    expect(await engine.stopInstance('strict', second.workflowInstanceId)).toBe(true);
    await expect.poll(async () => (await instance('strict', third.workflowInstanceId)).status, { timeout: 10_000 }).toBe('IN_PROGRESS');
    expect(await engine.killInstance('strict', third.workflowInstanceId)).toBe(true);
  });

  it('a queued (CREATED) instance can be killed too; an ended or unknown one is left alone (false)', async () => {
    const s = await engine.startWorkflow({ workflowId: 'strict' });
    // The queue is blocked by the last kill, so this one waits as CREATED.
    expect((await instance('strict', s.workflowInstanceId)).status).toBe('CREATED');
    expect(await engine.killInstance('strict', s.workflowInstanceId, 'never mind')).toBe(true);
    expect(await instance('strict', s.workflowInstanceId)).toMatchObject({ status: 'FAILED', reason: 'never mind' });
    expect(await engine.killInstance('strict', s.workflowInstanceId)).toBe(false);
    expect(await engine.stopInstance('strict', s.workflowInstanceId)).toBe(false);
    expect(await engine.killInstance('strict', 999_999)).toBe(false);
    expect(await engine.killInstance('no-such-workflow', 1)).toBe(false);
  });

  it('a killed instance restarts from its killed steps, and the restart unblocks STRICT_SEQUENTIAL', async () => {
    const blocker = Number((await t.db.query<{ b: number }>('SELECT blocked_by_instance AS b FROM baton_workflow_state WHERE workflow_id = $1', ['strict'])).rows[0]!.b);
    const r = await engine.restartInstance('strict', blocker);
    expect(r.runId).toBe(2);
    const state = await t.db.query<{ b: number | null }>('SELECT blocked_by_instance AS b FROM baton_workflow_state WHERE workflow_id = $1', ['strict']);
    expect(state.rows[0]!.b).toBeNull();
    const run2 = await instance('strict', blocker);
    await running(run2.id, 'a');
    expect(await engine.killInstance('strict', blocker, 'killed again')).toBe(true);
    expect(await instance('strict', blocker)).toMatchObject({ status: 'FAILED', reason: 'killed again' });
  });

  it('keeps every timeline monotone, with no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});
