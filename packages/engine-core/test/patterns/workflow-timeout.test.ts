import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { JOB_WORKFLOW_TIMEOUT, describeSeconds, workflowTimeoutJob } from '../../src/runtime/workflow-timeout.js';
import { loopAndSubworkflowSteps, stepStatuses } from '../runtime/support/abort-tree.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, runsUntilAborted, testEngine, workflow } from '../runtime/support/engine.js';

/** Runs until its attempt is aborted (stopped, timed out, or its process stops). */
const aborted: string[] = [];
const hang = runsUntilAborted((ctx) => aborted.push(`${ctx.workflowId}/${ctx.instanceId}/${ctx.stepId}`));

const hangStep = (id: string) => ({ step: { id, type: 'Hang' } });

describe('describeSeconds', () => {
  it('writes limits the way users write durations', () => {
    expect([2, 90, 5400, 86400 + 61, 0.5].map(describeSeconds)).toEqual(['2s', '1m 30s', '1h 30m', '1d 1m 1s', '0.5s']);
  });
});

describe.each<DbKind>(['pglite', 'postgres'])('workflow timeouts on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();

  beforeAll(async () => {
    aborted.length = 0;
    t = await openTestDb(kind);
    defs.add(workflow({ workflow: { id: 'slow', timeout: 1, steps: [hangStep('a'), hangStep('b')] } }));
    defs.add(
      workflow({
        workflow: {
          id: 'from-param',
          timeout: '${timeout_param}',
          params: { timeout_param: { value: '1s', type: 'STRING' } },
          steps: [hangStep('a')],
        },
      }),
    );
    defs.add(workflow({ workflow: { id: 'quick', timeout: '1h 30m', steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
    defs.add(
      workflow({
        workflow: {
          id: 'bad-template',
          timeout: '${patience}',
          params: { patience: { value: 'soon', type: 'STRING' } },
          steps: [hangStep('a')],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'parent',
          timeout: '1s',
          steps: loopAndSubworkflowSteps(hangStep('inner')),
        },
      }),
    );
    defs.add(workflow({ workflow: { id: 'child', steps: [hangStep('deep')] } }));
    defs.add(workflow({ workflow: { id: 'restarted', timeout: 2, steps: [hangStep('a')] } }));
    ({ engine, errors } = testEngine(t.db, defs, { pollMs: 50 }));
    engine.registerRuntime('Hang', hang);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  const instance = async (workflowId: string, instanceId: number, runId = 1) =>
    (
      await t.db.query<{ id: number; status: string; reason: string | null; started_at: Date; ended_at: Date | null }>(
        'SELECT id, status, reason, started_at, ended_at FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 AND run_id = $3',
        [workflowId, instanceId, runId],
      )
    ).rows[0]!;
  const steps = (instancePk: number) => stepStatuses(t.db, instancePk);
  const timeoutJobs = async (instancePk: number) =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs WHERE job_key = $1', [`workflow-timeout:${instancePk}`])).rows[0]!.n;
  const elapsed = (i: { started_at: Date; ended_at: Date | null }) => new Date(i.ended_at!).getTime() - new Date(i.started_at).getTime();

  it('an instance running longer than its timeout ends TIMED_OUT, its open steps stopped and aborted', async () => {
    const s = await engine.startWorkflow({ workflowId: 'slow' });
    expect(await engine.waitForInstance('slow', s.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const i = await instance('slow', s.workflowInstanceId);
    expect(i.reason).toBe('workflow timed out: still running after its timeout of 1s');
    expect(elapsed(i)).toBeGreaterThanOrEqual(1000);
    expect(elapsed(i)).toBeLessThan(5000); // its timeout job, not the steps (which never end)
    const reason = 'STOPPED: workflow timed out: still running after its timeout of 1s';
    expect(await steps(i.id)).toEqual({ a: reason, b: reason });
    await expect.poll(() => aborted.filter((x) => x.startsWith(`slow/${s.workflowInstanceId}/`)).sort()).toEqual([
      `slow/${s.workflowInstanceId}/a`,
      `slow/${s.workflowInstanceId}/b`,
    ]);
    const timeline = await t.db.query<{ to_status: string; message: string }>(
      'SELECT to_status, message FROM baton_instance_timeline WHERE instance_pk = $1 ORDER BY id',
      [i.id],
    );
    expect(timeline.rows.at(-1)).toEqual({ to_status: 'TIMED_OUT', message: i.reason });
    expect(await timeoutJobs(i.id)).toBe(0);
  });

  it('takes the limit from a ${param} template', async () => {
    const s = await engine.startWorkflow({ workflowId: 'from-param' });
    expect(await engine.waitForInstance('from-param', s.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const i = await instance('from-param', s.workflowInstanceId);
    expect(i.reason).toBe('workflow timed out: still running after its timeout of 1s (${timeout_param})');
    // A run param sets another limit: 2 s, as a number of seconds.
    const longer = await engine.startWorkflow({ workflowId: 'from-param', params: { timeout_param: '2' } });
    expect(await engine.waitForInstance('from-param', longer.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const j = await instance('from-param', longer.workflowInstanceId);
    expect(j.reason).toBe('workflow timed out: still running after its timeout of 2s (${timeout_param})');
    expect(elapsed(j)).toBeGreaterThanOrEqual(2000);
  });

  it('a template that gives no duration fails the instance with the reason', async () => {
    const s = await engine.startWorkflow({ workflowId: 'bad-template' });
    expect(await engine.waitForInstance('bad-template', s.workflowInstanceId, 10_000)).toBe('FAILED');
    expect((await instance('bad-template', s.workflowInstanceId)).reason).toBe(
      "workflow timeout ${patience}: bad duration 'soon': expected terms like '1h 30m', '10s' or '20 minutes'",
    );
    const zero = await engine.startWorkflow({ workflowId: 'bad-template', params: { patience: '0' } });
    expect(await engine.waitForInstance('bad-template', zero.workflowInstanceId, 10_000)).toBe('FAILED');
    expect((await instance('bad-template', zero.workflowInstanceId)).reason).toBe('workflow timeout ${patience} is 0, not a positive duration');
  });

  it('an instance that ends in time drops its timeout job, and a late one is a no-op', async () => {
    const s = await engine.startWorkflow({ workflowId: 'quick' });
    const i0 = await instance('quick', s.workflowInstanceId);
    expect(await engine.waitForInstance('quick', s.workflowInstanceId)).toBe('SUCCEEDED');
    expect(await timeoutJobs(i0.id)).toBe(0);
    // The job firing anyway (say it was claimed as the instance ended) changes nothing.
    await engine.queue.enqueue(workflowTimeoutJob(i0.id, new Date()));
    await expect.poll(() => timeoutJobs(i0.id)).toBe(0);
    const i = await instance('quick', s.workflowInstanceId);
    expect([i.status, i.reason]).toEqual(['SUCCEEDED', null]);
  });

  it('stops loop iterations and subworkflow runs below the instance', async () => {
    const s = await engine.startWorkflow({ workflowId: 'parent' });
    expect(await engine.waitForInstance('parent', s.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const i = await instance('parent', s.workflowInstanceId);
    const children = await t.db.query<{ workflow_id: string; status: string; reason: string }>(
      `SELECT c.workflow_id, c.status, c.reason FROM baton_workflow_instances c JOIN baton_step_attempts a ON a.id = c.parent_attempt_pk
       WHERE a.instance_pk = $1 ORDER BY c.id`,
      [i.id],
    );
    expect(children.rows.map((c) => c.workflow_id).sort()).toEqual(['child', 'parent#loop', 'parent#loop', 'parent#loop']);
    for (const c of children.rows) expect([c.status, c.reason]).toEqual(['STOPPED', i.reason]);
    expect(await steps(i.id)).toEqual({ loop: `STOPPED: ${i.reason}`, sub: `STOPPED: ${i.reason}` });
  });

  it('the run strategy moves on: the next queued instance starts when one times out', async () => {
    const first = await engine.startWorkflow({ workflowId: 'slow' });
    const second = await engine.startWorkflow({ workflowId: 'slow' });
    await expect.poll(async () => (await instance('slow', first.workflowInstanceId)).status).toBe('IN_PROGRESS');
    // The second waits while the first runs (read in this order: a loaded machine may already be past the first's second).
    const secondNow = (await instance('slow', second.workflowInstanceId)).status;
    if (secondNow !== 'CREATED') expect((await instance('slow', first.workflowInstanceId)).status).toBe('TIMED_OUT');
    expect(await engine.waitForInstance('slow', first.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    expect(await engine.waitForInstance('slow', second.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const a = await instance('slow', first.workflowInstanceId);
    const b = await instance('slow', second.workflowInstanceId);
    expect(new Date(b.started_at).getTime()).toBeGreaterThanOrEqual(new Date(a.ended_at!).getTime());
  });

  it('a restarted run gets its own timeout', async () => {
    const s = await engine.startWorkflow({ workflowId: 'restarted' });
    expect(await engine.waitForInstance('restarted', s.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const r = await engine.restartInstance('restarted', s.workflowInstanceId);
    expect(r.runId).toBe(2);
    await expect.poll(async () => (await instance('restarted', s.workflowInstanceId, 2)).status, { timeout: 10_000 }).toBe('TIMED_OUT');
    expect(elapsed(await instance('restarted', s.workflowInstanceId, 2))).toBeGreaterThanOrEqual(2000);
  });

  it('the timeout queued before an engine restart fires in the next engine', async () => {
    const s = await engine.startWorkflow({ workflowId: 'restarted' });
    const pk = (await instance('restarted', s.workflowInstanceId)).id;
    await expect.poll(async () => (await steps(pk)).a).toBe('RUNNING: null');
    await engine.stop();
    const pending = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs WHERE kind = $1 AND job_key = $2', [JOB_WORKFLOW_TIMEOUT, `workflow-timeout:${pk}`]);
    expect(pending.rows[0]?.n).toBe(1);

    const before = errors;
    ({ engine, errors } = testEngine(t.db, defs, { pollMs: 50 }));
    errors.push(...before);
    engine.registerRuntime('Hang', hang);
    await engine.start();
    expect(await engine.waitForInstance('restarted', s.workflowInstanceId, 10_000)).toBe('TIMED_OUT');
    const i = await instance('restarted', s.workflowInstanceId);
    expect(i.reason).toBe('workflow timed out: still running after its timeout of 2s');
    expect(elapsed(i)).toBeGreaterThanOrEqual(2000);
    expect(await steps(pk)).toEqual({ a: `STOPPED: ${i.reason}` });
  });

  it('keeps every timeline monotone, with no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});
