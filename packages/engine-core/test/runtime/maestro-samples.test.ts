import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/index.js';
import type { StepRef } from '../../src/runtime/context.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { assertTimelinesMonotone, testEngine } from './support/engine.js';
import { loadSample } from './support/samples.js';

/**
 * Maestro's sample workflows that use only NoOp, Sleep, conditions and signal dependencies, run to
 * the outcome Maestro produces, step by step. Signal dependencies wait at a gate that the test
 * opens, as the signals package does when a matching signal arrives.
 */
const S = 'SUCCEEDED';
const expected: Record<string, { steps: Record<string, string>; params?: Record<string, Record<string, unknown>>; signals?: string[] }> = {
  'sample-conditional-wf': {
    steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': 'UNSATISFIED', 'job.5': 'UNSATISFIED', 'job.6': S, 'job.7': S },
    params: { 'job.7': { param5: 15n }, 'job.3': { param2: 15n } },
  },
  'sample-dag-test-1': { steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S, 'job.6': S } },
  'sample-dag-test-2': { steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S } },
  'sample-dag-test-3': {
    steps: { job1: S, 'job.2': S, job3: S, job4: S },
    params: { 'job.2': { sleep_seconds: 16n, param1: '161' } },
  },
  'sample-dag-test-4': { steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S, 'job.6': S, 'job.7': S } },
  'sample-dag-test-5': { steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S, 'job.6': S, 'job.7': S }, signals: ['job.1'] },
  'sample-dag-test-6': { steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S, 'job.6': S, 'job.7': S, 'job.8': S } },
  'sample-dag-test-7': { steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S, 'job.6': S, 'job.7': S, 'job.8': S } },
  'sample-dag-test-8': { steps: { 'job.1': S, 'job.2': S, 'job.3': 'UNSATISFIED', 'job.4': S, 'job.5': S } },
  'sample-dag-test-9': {
    steps: { 'job.1': S, 'job.2': S, 'job.3': S, 'job.4': S, 'job.5': S, 'job.6': S, 'job.7': S, 'job.8': S, 'job.9': S },
  },
  'sample-dag-test-10': {
    steps: { job1: S, 'job.2': S, job3: S, job4: S },
    params: { 'job.2': { sleep_seconds: 2n, param1: '21' } },
    signals: ['job1'],
  },
};

/** Holds steps with signal dependencies until the test "delivers" their signals. */
class SignalGate {
  readonly delivered = new Set<string>();
  readonly waiting = new Map<string, number>();
  async check(_q: Queryable, step: StepRef, def: { workflow: { steps: { id: string; signalDependencies: unknown[] }[] } }) {
    const s = def.workflow.steps.find((x) => x.id === step.stepId);
    if (!s || s.signalDependencies.length === 0 || this.delivered.has(`${step.workflowId}/${step.stepId}`)) return { open: true };
    this.waiting.set(`${step.workflowId}/${step.stepId}`, step.attemptPk);
    return { open: false, reason: `${s.signalDependencies.length} signal dependencies` };
  }
}

describe.each<DbKind>(['pglite', 'postgres'])('Maestro samples on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const gate = new SignalGate();

  beforeAll(async () => {
    t = await openTestDb(kind);
    for (const name of Object.keys(expected)) defs.add(loadSample(name));
    ({ engine, errors } = testEngine(t.db, defs));
    engine.registerGate('signals', gate);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it.each(Object.keys(expected))('%s runs to Maestro\'s outcome', async (name) => {
    const want = expected[name]!;
    const started = await engine.startWorkflow({ workflowId: name, requestId: `compat-${name}` });
    expect(started.duplicate).toBe(false);
    for (const stepId of want.signals ?? []) {
      const key = `${name}/${stepId}`;
      const stepStatus = async () => (await engine.getRun(name, started.workflowInstanceId))?.steps.find((s) => s.stepId === stepId)?.status;
      await expect.poll(stepStatus).toBe('WAITING_FOR_SIGNALS');
      const waiting = await engine.getRun(name, started.workflowInstanceId);
      expect(waiting?.steps.find((s) => s.stepId === stepId)?.status).toBe('WAITING_FOR_SIGNALS');
      expect(waiting?.steps.filter((s) => s.status !== 'NOT_CREATED').map((s) => s.stepId)).toEqual([stepId]);
      expect(waiting?.status).toBe('IN_PROGRESS');
      gate.delivered.add(key);
      await t.db.tx((tx) => engine.recheckStep(tx, gate.waiting.get(key)!));
    }
    const status = await engine.waitForInstance(name, started.workflowInstanceId, 30_000);
    const run = await engine.getRun(name, started.workflowInstanceId);
    expect(Object.fromEntries(run!.steps.map((s) => [s.stepId, s.status]))).toEqual(want.steps);
    expect(status).toBe('SUCCEEDED');
    for (const [stepId, params] of Object.entries(want.params ?? {})) {
      const attempt = await engine.getStepAttempt(name, started.workflowInstanceId, stepId);
      for (const [p, v] of Object.entries(params)) expect(attempt?.params[p]?.value).toEqual(v);
    }
    expect(errors).toEqual([]);
  });

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});
