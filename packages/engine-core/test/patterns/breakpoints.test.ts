import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { StepActionError } from '../../src/runtime/step-action-error.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, until, workflow } from '../runtime/support/engine.js';

describe.each<DbKind>(['pglite', 'postgres'])('breakpoints on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const calls: string[] = [];
  const counted: StepRuntime = {
    async run(p, ctx) {
      calls.push(`${ctx.workflowId}/${ctx.instanceId}:${ctx.stepId}${p.x === undefined ? '' : `:x=${String(p.x)}`}`);
      return { status: 'SUCCEEDED' };
    },
  };
  const startEngine = async (): Promise<void> => {
    ({ engine, errors } = testEngine(t.db, defs));
    engine.registerRuntime('Counted', counted);
    await engine.start();
  };
  const statusOf = async (wf: string, iid: number, step: string): Promise<string | undefined> => (await engine.getStepAttempt(wf, iid, step))?.status;
  const pausedWhen = (wf: string, iid: number, step: string) => until(`${wf}/${iid} ${step} PAUSED`, async () => (await statusOf(wf, iid, step)) === 'PAUSED');

  beforeAll(async () => {
    t = await openTestDb(kind);
    defs.add(
      workflow({
        properties: { run_strategy: 'parallel' },
        workflow: {
          id: 'chain',
          steps: [
            { step: { id: 'a', type: 'Counted', transition: { successors: { b: 'true' } } } },
            { step: { id: 'b', type: 'Counted' } },
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
                id: 'each',
                concurrency: 3,
                params: { loop_params: { type: 'MAP', value: { x: { value: [1, 2, 3], type: 'LONG_ARRAY' } } } },
                steps: [{ step: { id: 'inner', type: 'Counted' } }],
              },
            },
          ],
        },
      }),
    );
    await startEngine();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('pauses a matching attempt before its runtime runs; resume lets exactly that attempt go on', async () => {
    const set = await engine.setBreakpoint('chain', 'b');
    expect(set.created).toBe(true);
    expect((await engine.setBreakpoint('chain', 'b')).created).toBe(false);
    const one = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    const two = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    await pausedWhen('chain', one, 'b');
    await pausedWhen('chain', two, 'b');
    // The two instances' step a run on parallel workers (PostgreSQL): either may call first.
    expect([...calls].sort()).toEqual([`chain/${one}:a`, `chain/${two}:a`].sort());
    const attempt = await engine.getStepAttempt('chain', one, 'b');
    expect(attempt?.timeline.map((e) => [e.from, e.to])).toEqual([[null, 'CREATED'], ['CREATED', 'INITIALIZED'], ['INITIALIZED', 'PAUSED']]);
    expect(attempt?.timeline.at(-1)?.message).toBe(`paused at breakpoint ${set.breakpoint.id} on chain/b`);
    expect((await engine.listBreakpoints('chain')).map((b) => [b.stepId, b.paused])).toEqual([['b', 2]]);

    expect(await engine.stepAction('chain', one, 'b', 'resume')).toMatchObject({ workflowInstanceId: one, stepId: 'b', attemptId: 1 });
    expect(await engine.waitForInstance('chain', one, 15_000)).toBe('SUCCEEDED');
    await engine.idle();
    expect(await statusOf('chain', two, 'b')).toBe('PAUSED');
    expect(calls.slice(0, 2).sort()).toEqual([`chain/${one}:a`, `chain/${two}:a`].sort());
    expect(calls.slice(2)).toEqual([`chain/${one}:b`]);
    expect((await engine.getStepAttempt('chain', one, 'b'))?.timeline.map((e) => e.message)).toContain('resumed by request');

    await expect(engine.stepAction('chain', two, 'a', 'resume')).rejects.toThrow(/attempt 1 is SUCCEEDED, not paused at a breakpoint/);
    await expect(engine.stepAction('chain', one, 'b', 'resume')).rejects.toThrow(/the instance is SUCCEEDED/);
  });

  it('deleting the breakpoint resumes every attempt it paused', async () => {
    const three = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    await pausedWhen('chain', three, 'b');
    expect(await engine.deleteBreakpoints('chain', 'b')).toEqual({ deleted: 1, resumed: 2 });
    expect(await engine.waitForInstance('chain', three, 15_000)).toBe('SUCCEEDED');
    expect(await engine.waitForInstance('chain', three - 1, 15_000)).toBe('SUCCEEDED');
    expect(await engine.listBreakpoints('chain')).toEqual([]);
    // Without a breakpoint nothing pauses.
    const four = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    expect(await engine.waitForInstance('chain', four, 15_000)).toBe('SUCCEEDED');
  });

  // Two transactions at once: PostgreSQL only (PGlite has one connection).
  if (kind === 'postgres') it('deleting a breakpoint while a step action holds a paused attempt waits for it instead of deadlocking', async () => {
    await engine.setBreakpoint('chain', 'b');
    const iid = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    await pausedWhen('chain', iid, 'b');
    const pk = (await engine.getStepAttempt('chain', iid, 'b'))!;
    const attemptPk = (
      await t.db.query<{ id: number }>(
        `SELECT a.id FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = 'chain' AND i.instance_id = $1 AND a.step_id = 'b' AND a.attempt_id = $2`,
        [iid, pk.attemptId],
      )
    ).rows[0]!.id;
    let deleting: Promise<{ deleted: number; resumed: number }> | undefined;
    const rolledBack = new Error('rolled back on purpose');
    // A step action's order: the attempt row, then its pause. The delete starts in between.
    const held = t.db
      .tx(async (tx) => {
        await tx.query('SELECT id FROM baton_step_attempts WHERE id = $1 FOR UPDATE', [attemptPk]);
        deleting = engine.deleteBreakpoints('chain', 'b');
        await until('the delete waits for a lock', async () => {
          const r = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
          return r.rows[0]!.n > 0;
        });
        await tx.query('UPDATE baton_step_pauses SET released_by = released_by WHERE attempt_pk = $1', [attemptPk]);
        throw rolledBack;
      })
      .catch((err: unknown) => err);
    expect(await held).toBe(rolledBack);
    expect(await deleting!).toEqual({ deleted: 1, resumed: 1 });
    expect(await engine.waitForInstance('chain', iid, 15_000)).toBe('SUCCEEDED');
  });

  it('narrowed to one instance, a breakpoint pauses only that instance', async () => {
    const next = (await engine.listInstances('chain', { limit: 1 })).items[0]!.instanceId + 1;
    await engine.setBreakpoint('chain', 'a', { instanceId: next + 1 });
    const free = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    const held = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    expect([free, held]).toEqual([next, next + 1]);
    expect(await engine.waitForInstance('chain', free, 15_000)).toBe('SUCCEEDED');
    await pausedWhen('chain', held, 'a');
    expect(await engine.deleteBreakpoints('chain', 'a', { instanceId: next + 1 })).toEqual({ deleted: 1, resumed: 1 });
    expect(await engine.waitForInstance('chain', held, 15_000)).toBe('SUCCEEDED');
  });

  it('refuses breakpoints on unknown workflows and steps and bad scopes', async () => {
    await expect(engine.setBreakpoint('nope', 'a')).rejects.toThrow(StepActionError);
    await expect(engine.setBreakpoint('chain', 'zz')).rejects.toThrow(/has no step zz/);
    await expect(engine.setBreakpoint('chain', 'a', { runId: 0 })).rejects.toThrow(/runId must be a positive integer/);
  });

  it('a breakpoint and its paused attempts survive an engine restart', async () => {
    await engine.setBreakpoint('chain', 'b');
    const iid = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    await pausedWhen('chain', iid, 'b');
    await engine.stop();
    await startEngine();
    await engine.idle();
    expect(await statusOf('chain', iid, 'b')).toBe('PAUSED');
    expect((await engine.listBreakpoints('chain', 'b'))[0]?.paused).toBe(1);
    // A paused attempt holds no queue job (no worker waits for it).
    const jobs = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_jobs WHERE job_key LIKE 'step:%'`);
    expect(jobs.rows[0]?.n).toBe(0);
    await engine.stepAction('chain', iid, 'b', 'resume');
    expect(await engine.waitForInstance('chain', iid, 15_000)).toBe('SUCCEEDED');
    await engine.deleteBreakpoints('chain', 'b');
  });

  it('stopping the instance stops its paused attempt', async () => {
    await engine.setBreakpoint('chain', 'b');
    const iid = (await engine.startWorkflow({ workflowId: 'chain' })).workflowInstanceId;
    await pausedWhen('chain', iid, 'b');
    expect(await engine.stopInstance('chain', iid)).toBe(true);
    expect(await statusOf('chain', iid, 'b')).toBe('STOPPED');
    expect(await engine.deleteBreakpoints('chain', 'b')).toEqual({ deleted: 1, resumed: 0 });
  });

  it('pauses foreach iterations at a breakpoint on an inner step; one resumes in its iteration, the rest when it is deleted', async () => {
    calls.length = 0;
    await engine.setBreakpoint('loop', 'inner');
    const iid = (await engine.startWorkflow({ workflowId: 'loop' })).workflowInstanceId;
    const iterations = await until('3 paused iterations', async () => {
      const r = await t.db.query<{ instance_id: number }>(
        `SELECT i.instance_id FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = 'loop#each' AND a.step_id = 'inner' AND a.status = 'PAUSED' ORDER BY i.iteration`,
      );
      return r.rows.length === 3 && r.rows.map((x) => Number(x.instance_id));
    });
    expect(calls).toEqual([]);
    await expect(engine.stepAction('loop', iid, 'inner', 'resume')).rejects.toThrow(/runs inside a loop: address it in its iteration, as workflow loop#each/);
    await engine.stepAction('loop#each', iterations[1]!, 'inner', 'resume');
    expect(await engine.waitForInstance('loop#each', iterations[1]!, 15_000)).toBe('SUCCEEDED');
    expect(calls).toEqual([`loop#each/${iterations[1]}:inner:x=2`]);
    expect(await engine.deleteBreakpoints('loop', 'inner')).toEqual({ deleted: 1, resumed: 2 });
    expect(await engine.waitForInstance('loop', iid, 15_000)).toBe('SUCCEEDED');
    expect(calls).toHaveLength(3);
  });

  it('keeps every timeline monotone and reports no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});
