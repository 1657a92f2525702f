import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { testEngine, until, workflow } from './support/engine.js';

/**
 * Every instance reaches a terminal state: a failing step gate, step completion hook, instance
 * completion hook, step param, outgoing condition or a platform error that does not pass ends
 * the step and the instance (per the step's failure mode) with a reason naming what failed —
 * within a bounded time, never retried forever.
 */
const BOUND_MS = 15_000;

/** A passing database problem as `pg` reports it (SQLSTATE class 08: connection exception). */
function connectionLost(): Error {
  return Object.assign(new Error('connection terminated unexpectedly'), { code: '08006' });
}

const one = (id: string, step: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  workflow({ workflow: { id, ...extra, steps: [{ step: { id: 'a', type: 'NoOp', ...step } }] } });

describe.each<DbKind>(['pglite', 'postgres'])('terminal states on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  const defs = new InMemoryDefinitions();
  let gateCalls = 0;

  beforeAll(async () => {
    t = await openTestDb(kind);
    defs.add(one('hook-fails', {}));
    defs.add(one('sql-hook-fails', {}));
    defs.add(
      workflow({
        workflow: {
          id: 'hook-fails-ignore',
          steps: [
            { step: { id: 'a', type: 'NoOp', failure_mode: 'IGNORE_FAILURE', transition: { successors: { b: 'true' } } } },
            { step: { id: 'b', type: 'NoOp' } },
          ],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'hook-fails-after-running',
          steps: [
            { step: { id: 'a', type: 'NoOp', failure_mode: 'FAIL_AFTER_RUNNING' } },
            { step: { id: 'slow', type: 'Slow' } },
          ],
        },
      }),
    );
    defs.add(one('gate-fails', {}));
    defs.add(one('gate-fails-ignore', { failure_mode: 'IGNORE_FAILURE' }));
    defs.add(one('gate-transient', {}));
    defs.add(one('instance-hook-fails', {}));
    defs.add(one('param-fails', { params: { p: { expression: 'return 1 / 0;', type: 'LONG' } } }));
    defs.add(
      workflow({
        workflow: {
          id: 'condition-fails',
          steps: [
            { step: { id: 'a', type: 'NoOp', transition: { successors: { b: 'return 1 / 0 > 1;' } } } },
            { step: { id: 'b', type: 'NoOp' } },
          ],
        },
      }),
    );
    defs.add(one('kill-hook-fails', { type: 'Slow' }));
    ({ engine } = testEngine(t.db, defs, { platformRetry: { attempts: 3, maxBackoffSeconds: 1 } }));
    const slow: StepRuntime = { run: (_p, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ status: 'STOPPED' as never }), { once: true })) };
    engine.registerRuntime('Slow', { run: async (p, ctx) => (ctx.workflowId === 'kill-hook-fails' ? slow.run(p, ctx) : { status: 'SUCCEEDED' }) });
    engine.registerGate('test gate', {
      async check(_q, ref) {
        if (ref.workflowId.startsWith('gate-fails')) throw new Error('match param date: unknown variable run_date');
        if (ref.workflowId === 'gate-transient') {
          gateCalls++;
          throw connectionLost();
        }
        return { open: true };
      },
    });
    engine.onStepCompleted(async (tx, _outbox, e) => {
      if (e.workflowId.startsWith('hook-fails') && e.stepId === 'a' && e.status === 'SUCCEEDED') throw new Error('signal_outputs[0] (out) param p: unknown variable run_date');
      if (e.workflowId === 'kill-hook-fails') throw new Error('the sink refused the event');
      // A statement the database refuses aborts a PostgreSQL transaction: the savepoint recovers it.
      if (e.workflowId === 'sql-hook-fails' && e.status === 'SUCCEEDED') await tx.query('SELECT 1 / 0');
    }, 'test outputs');
    engine.onInstanceCompleted(async (tx, _outbox, e) => {
      if (e.workflowId === 'instance-hook-fails') {
        await tx.query('SELECT 1');
        throw new Error('the outbound sink is gone');
      }
    }, 'test instance events');
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  async function run(workflowId: string): Promise<{ status: string; reason: string | null; steps: Record<string, { status: string; reason: string | null }> }> {
    const { workflowInstanceId: iid } = await engine.startWorkflow({ workflowId });
    const status = await engine.waitForInstance(workflowId, iid, BOUND_MS);
    const details = (await engine.getRun(workflowId, iid))!;
    const steps: Record<string, { status: string; reason: string | null }> = {};
    for (const s of details.steps) {
      const a = await engine.getStepAttempt(workflowId, iid, s.stepId);
      steps[s.stepId] = { status: s.status, reason: a?.reason ?? null };
    }
    return { status, reason: details.reason ?? null, steps };
  }

  it('a failing step completion hook fails the step, naming the hook and the error', async () => {
    const r = await run('hook-fails');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a).toEqual({ status: 'FATALLY_FAILED', reason: 'step completion hook "test outputs" failed: signal_outputs[0] (out) param p: unknown variable run_date' });
    expect(r.reason).toBe('step a ended FATALLY_FAILED');
  });

  it('a completion hook whose statement the database refuses fails the step; the ending still commits', async () => {
    const r = await run('sql-hook-fails');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a).toEqual({ status: 'FATALLY_FAILED', reason: 'step completion hook "test outputs" failed: division by zero' });
  });

  it('with IGNORE_FAILURE the step completes with the error and the run goes on', async () => {
    const r = await run('hook-fails-ignore');
    expect(r.status).toBe('SUCCEEDED');
    expect(r.steps.a!.status).toBe('COMPLETED_WITH_ERROR');
    expect(r.steps.a!.reason).toContain('step completion hook "test outputs" failed: signal_outputs[0] (out) param p');
    expect(r.steps.b!.status).toBe('SUCCEEDED');
  });

  it('with FAIL_AFTER_RUNNING the other steps finish first, then the instance fails', async () => {
    const r = await run('hook-fails-after-running');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a!.status).toBe('FATALLY_FAILED');
    expect(r.steps.slow!.status).toBe('SUCCEEDED');
  });

  it('a failing step gate fails the step with the gate and the error', async () => {
    const r = await run('gate-fails');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a).toEqual({ status: 'USER_FAILED', reason: 'step gate "test gate" failed: match param date: unknown variable run_date' });
  });

  it('a failing step gate with IGNORE_FAILURE completes the step with the error', async () => {
    const r = await run('gate-fails-ignore');
    expect(r.status).toBe('SUCCEEDED');
    expect(r.steps.a).toEqual({ status: 'COMPLETED_WITH_ERROR', reason: 'USER_FAILED ignored (failure mode IGNORE_FAILURE): step gate "test gate" failed: match param date: unknown variable run_date' });
  });

  it('a platform error is retried with backoff a bounded number of times, then fails the step with it', async () => {
    const started = Date.now();
    const r = await run('gate-transient');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a!.status).toBe('PLATFORM_FAILED');
    expect(r.steps.a!.reason).toBe('the step job gave up after 3 attempts on a platform error: connection terminated unexpectedly');
    expect(gateCalls).toBe(3);
    // Two backoffs between three deliveries, each capped at maxBackoffSeconds (1 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
  });

  it('a failing instance completion hook leaves the ending and adds the hook and error to the reason', async () => {
    const r = await run('instance-hook-fails');
    expect(r.status).toBe('SUCCEEDED');
    expect(r.reason).toBe('instance completion hook "test instance events" failed: the outbound sink is gone');
  });

  it('a step param that throws fails the step with the param and the error', async () => {
    const r = await run('param-fails');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a!.status).toBe('USER_FAILED');
    expect(r.steps.a!.reason).toMatch(/\bp\b.*(zero|\/ by zero)/i);
  });

  it('an outgoing condition that throws fails the step with the successor and the error', async () => {
    const r = await run('condition-fails');
    expect(r.status).toBe('FAILED');
    expect(r.steps.a!.status).toBe('FATALLY_FAILED');
    expect(r.steps.a!.reason).toMatch(/^condition for successor b \(return 1 \/ 0 > 1;\): .*zero/i);
  });

  it('a step action ends the step even when a completion hook fails, noting the hook', async () => {
    const { workflowInstanceId: iid } = await engine.startWorkflow({ workflowId: 'kill-hook-fails' });
    await until('the step to run', async () => (await engine.getRun('kill-hook-fails', iid))?.steps.find((s) => s.stepId === 'a')?.status === 'RUNNING');
    await engine.stepAction('kill-hook-fails', iid, 'a', 'kill', 'enough');
    expect(await engine.waitForInstance('kill-hook-fails', iid, BOUND_MS)).toBe('FAILED');
    const a = await engine.getStepAttempt('kill-hook-fails', iid, 'a');
    expect(a?.status).toBe('FATALLY_FAILED');
    expect(a?.reason).toBe('enough; step completion hook "test outputs" failed: the sink refused the event');
  });
});
