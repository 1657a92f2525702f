import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/index.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { loopParamsMap } from '../../src/runtime/loop-helpers.js';
import { decodeParams, encodeParams } from '../../src/runtime/params.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';
import { loadSample } from '../runtime/support/samples.js';

interface ChildRow {
  id: number;
  workflow_id: string;
  iteration: number;
  status: string;
  params: unknown;
}

/** Iterations of a foreach attempt of a top-level instance, by iteration. */
async function iterations(db: Db, parentWorkflowId: string, instanceId: number, stepId: string): Promise<ChildRow[]> {
  const res = await db.query<ChildRow>(
    `SELECT c.id, c.workflow_id, c.iteration, c.status, c.params FROM baton_workflow_instances p
     JOIN baton_step_attempts a ON a.instance_pk = p.id AND a.step_id = $3
     JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
     WHERE p.workflow_id = $1 AND p.instance_id = $2 ORDER BY c.iteration`,
    [parentWorkflowId, instanceId, stepId],
  );
  return res.rows.map((r) => ({ ...r, iteration: Number(r.iteration) }));
}

describe('loop_params', () => {
  it('reads back each loop variable with its type, LONGs up to ±2^53 included', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const stored = JSON.parse(
      encodeParams({
        loop_params: loopParamsMap({
          n: { type: 'LONG', value: -7n },
          top: { type: 'LONG', value: max },
          bottom: { type: 'LONG', value: -max },
          d: { type: 'DOUBLE', value: 1.5 },
          s: { type: 'STRING', value: '42' },
          b: { type: 'BOOLEAN', value: false },
        }),
      }),
    ) as unknown;
    expect(decodeParams(stored).loop_params).toEqual({ type: 'MAP', value: { n: -7n, top: max, bottom: -max, d: 1.5, s: '42', b: false } });
  });
});

describe('foreach on PGlite', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  // Records what the inner step saw, and how many of its calls overlapped.
  const seen: { index: bigint; x: bigint; y: string; label: string; loopParams: unknown }[] = [];
  let active = 0;
  let peak = 0;
  /** Set by the concurrency test: the first iteration waits (up to 5 s) for a second to overlap it. */
  let awaitOverlap = false;
  const probe: StepRuntime = {
    async run(p) {
      active++;
      peak = Math.max(peak, active);
      // On a loaded machine two iterations may otherwise run back to back, never overlapping.
      for (const t0 = Date.now(); awaitOverlap && peak < 2 && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 15));
      active--;
      seen.push({ index: p.loop_index as bigint, x: p.x as bigint, y: p.y as string, label: p.label as string, loopParams: p.loop_params });
      if (p.x === 3n && p.y === 'boom') return { status: 'USER_FAILED', message: 'probe asked to fail' };
      return { status: 'SUCCEEDED', outputs: { doubled: (p.x as bigint) * 2n } };
    },
  };

  const loop = (id: string, extra: Record<string, unknown> = {}, ys: string[] = ['a', 'b']) =>
    workflow({
      workflow: {
        id,
        params: { base: { value: 100, type: 'LONG' } },
        steps: [
          {
            foreach: {
              id: 'loop',
              concurrency: 2,
              ...extra,
              params: {
                ys: { value: ys, type: 'STRING_ARRAY' },
                loop_params: {
                  type: 'MAP',
                  value: {
                    x: { expression: 'Util.intsBetween(1, 4, 1);', type: 'LONG_ARRAY' },
                    y: { expression: 'ys;', type: 'STRING_ARRAY' },
                  },
                },
              },
              steps: [{ step: { id: 'inner', type: 'Probe', params: { label: { expression: "base + x + '-' + y + '#' + loop_index;", type: 'STRING' } } } }],
              transition: { successors: { after: 'true' } },
            },
          },
          { step: { id: 'after', type: 'NoOp', params: { doubled: { expression: "params.getFromForeach('loop', 'inner', 'doubled')", type: 'LONG_ARRAY' } } } },
        ],
      },
    });

  beforeAll(async () => {
    t = await openTestDb('pglite');
    for (const name of ['sample-foreach-wf', 'sample-nested-foreach-wf', 'sample-large-foreach-wf']) defs.add(loadSample(name));
    defs.add(loop('probe-loop'));
    defs.add(loop('probe-loop-fail', {}, ['a', 'boom']));
    defs.add(loop('probe-loop-fast', { failure_mode: 'FAIL_IMMEDIATELY', concurrency: 1 }, ['boom', 'a']));
    defs.add(loop('probe-loop-empty', {}, []));
    ({ engine, errors } = testEngine(t.db, defs, { foreachIterationLimit: 8 }));
    engine.registerRuntime('Probe', probe);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('runs the cartesian product with loop_index and loop params visible, at most `concurrency` at once', async () => {
    seen.length = 0;
    peak = 0;
    awaitOverlap = true;
    const s = await engine.startWorkflow({ workflowId: 'probe-loop' });
    expect(await engine.waitForInstance('probe-loop', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    awaitOverlap = false;
    const run = await engine.getRun('probe-loop', s.workflowInstanceId);
    expect(Object.fromEntries(run!.steps.map((x) => [x.stepId, x.status]))).toEqual({ loop: 'SUCCEEDED', after: 'SUCCEEDED' });
    // x = 1..3 (intsBetween's end is exclusive), y = a, b: the last loop param varies fastest.
    const labels = seen.map((x) => x.label).sort();
    expect(labels).toEqual(['101-a#0', '101-b#1', '102-a#2', '102-b#3', '103-a#4', '103-b#5']);
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
    const kids = await iterations(t.db, 'probe-loop', s.workflowInstanceId, 'loop');
    expect(kids.map((k) => k.iteration)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(kids.every((k) => k.status === 'SUCCEEDED' && k.workflow_id === 'probe-loop#loop')).toBe(true);
    const p3 = decodeParams(kids[3]!.params);
    expect(p3.loop_index?.value).toBe(3n);
    expect(p3.loop_params?.type).toBe('MAP');
    expect(Object.keys(p3.loop_params!.value)).toEqual(['x', 'y']);
    // A MAP keeps each loop variable's type: LONG values come back as LONGs, not strings.
    expect(p3.loop_params!.value).toEqual({ x: 2n, y: 'b' });
    expect(seen.map((x) => x.loopParams)).toContainEqual({ x: 3n, y: 'b' });
    expect(seen.every((x) => (x.loopParams as { x: unknown }).x === x.x)).toBe(true);
    expect(p3.ys?.value).toEqual(['a', 'b']);
    expect(p3.x).toEqual({ type: 'LONG', value: 2n });
    const attempt = await engine.getStepAttempt('probe-loop', s.workflowInstanceId, 'loop');
    expect(attempt?.reason).toBe('6 iterations: 6 succeeded, 0 failed, 0 stopped');
    const after = await engine.getStepAttempt('probe-loop', s.workflowInstanceId, 'after');
    expect(after?.params.doubled).toEqual({ type: 'LONG_ARRAY', value: [2n, 2n, 4n, 4n, 6n, 6n] });
    expect(await engine.getRollup('probe-loop', s.workflowInstanceId)).toEqual({
      workflowId: 'probe-loop',
      instanceId: s.workflowInstanceId,
      runId: 1,
      leaves: { SUCCEEDED: 7 },
      composites: { SUCCEEDED: 1 },
      children: { SUCCEEDED: 6 },
    });
    expect(errors).toEqual([]);
  });

  it('FAIL_AFTER_RUNNING: runs every iteration, then fails the step and the instance', async () => {
    seen.length = 0;
    const s = await engine.startWorkflow({ workflowId: 'probe-loop-fail' });
    expect(await engine.waitForInstance('probe-loop-fail', s.workflowInstanceId, 20_000)).toBe('FAILED');
    expect(seen).toHaveLength(6);
    const run = await engine.getRun('probe-loop-fail', s.workflowInstanceId);
    expect(Object.fromEntries(run!.steps.map((x) => [x.stepId, x.status]))).toEqual({ loop: 'USER_FAILED', after: 'NOT_CREATED' });
    const kids = await iterations(t.db, 'probe-loop-fail', s.workflowInstanceId, 'loop');
    expect(kids.map((k) => k.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']);
  });

  it('FAIL_IMMEDIATELY: the first failed iteration ends the loop; later ones never start', async () => {
    seen.length = 0;
    const s = await engine.startWorkflow({ workflowId: 'probe-loop-fast' });
    expect(await engine.waitForInstance('probe-loop-fast', s.workflowInstanceId, 20_000)).toBe('FAILED');
    const kids = await iterations(t.db, 'probe-loop-fast', s.workflowInstanceId, 'loop');
    // Only x = 3 with y = boom fails: iteration 4 of 6, one at a time; iteration 5 never starts.
    expect(kids.map((k) => k.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']);
    expect(seen).toHaveLength(5);
  });

  it('an empty loop param succeeds at once; more iterations than the limit fail the step', async () => {
    const e = await engine.startWorkflow({ workflowId: 'probe-loop-empty' });
    expect(await engine.waitForInstance('probe-loop-empty', e.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
    const big = await engine.startWorkflow({ workflowId: 'sample-foreach-wf' });
    expect(await engine.waitForInstance('sample-foreach-wf', big.workflowInstanceId, 20_000)).toBe('FAILED');
    const attempt = await engine.getStepAttempt('sample-foreach-wf', big.workflowInstanceId, 'foreach-job');
    expect(attempt?.status).toBe('USER_FAILED');
    expect(attempt?.reason).toBe('foreach step foreach-job would run more than 8 iterations (the iteration limit)');
  });

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});

describe("Maestro's foreach samples on PGlite", () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();

  beforeAll(async () => {
    t = await openTestDb('pglite');
    for (const name of ['sample-foreach-wf', 'sample-nested-foreach-wf', 'sample-large-foreach-wf']) defs.add(loadSample(name));
    // Maestro keeps validators without checking them, and sample-nested-foreach-wf breaks its own
    // (`j` has two values, its validator wants more): run the samples as Maestro does.
    // validators.test.ts runs the same sample with validators enforced.
    ({ engine, errors } = testEngine(t.db, defs, { timeScale: 0.0005, paramValidators: 'ignore' }));
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('sample-foreach-wf: one iteration per date, each running the inner DAG', async () => {
    const s = await engine.startWorkflow({ workflowId: 'sample-foreach-wf' });
    expect(await engine.waitForInstance('sample-foreach-wf', s.workflowInstanceId, 30_000)).toBe('SUCCEEDED');
    const kids = await iterations(t.db, 'sample-foreach-wf', s.workflowInstanceId, 'foreach-job');
    expect(kids.map((k) => decodeParams(k.params).i?.value)).toEqual([20200101n, 20200102n, 20200103n, 20200104n, 20200105n, 20200106n, 20200107n, 20200108n, 20200109n]);
    const steps = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM baton_step_attempts WHERE instance_pk = ANY($1::bigint[]) AND status = 'SUCCEEDED'`,
      [kids.map((k) => k.id)],
    );
    expect(steps.rows[0]!.n).toBe(9 * 6);
    expect(errors).toEqual([]);
  });

  it('sample-nested-foreach-wf: a foreach inside each iteration, its loop params computed from the outer ones', async () => {
    const s = await engine.startWorkflow({ workflowId: 'sample-nested-foreach-wf' });
    expect(await engine.waitForInstance('sample-nested-foreach-wf', s.workflowInstanceId, 30_000)).toBe('SUCCEEDED');
    const outer = await iterations(t.db, 'sample-nested-foreach-wf', s.workflowInstanceId, 'foreach-job');
    // i = 1, 2, 3 × j = a, b
    expect(outer.map((k) => [decodeParams(k.params).i?.value, decodeParams(k.params).j?.value])).toEqual([
      [1n, 'a'], [1n, 'b'], [2n, 'a'], [2n, 'b'], [3n, 'a'], [3n, 'b'],
    ]);
    // Inner loops: x = intsBetween(1, i, 1) → 0, 1 and 2 iterations; an empty one succeeds at once.
    const inner = await t.db.query<{ parent: number; n: number }>(
      `SELECT a.instance_pk AS parent, count(c.id)::int AS n FROM baton_step_attempts a
       LEFT JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
       WHERE a.instance_pk = ANY($1::bigint[]) AND a.step_id = 'job1' GROUP BY a.instance_pk ORDER BY a.instance_pk`,
      [outer.map((k) => k.id)],
    );
    expect(inner.rows.map((r) => r.n)).toEqual([0, 0, 1, 1, 2, 2]);
    const sleeps = await t.db.query<{ params: unknown }>(
      `SELECT a.params FROM baton_step_attempts a JOIN baton_workflow_instances c ON c.id = a.instance_pk
       WHERE c.workflow_id = 'sample-nested-foreach-wf#foreach-job#job1' AND a.step_id = 'job.1' AND a.status = 'SUCCEEDED'`,
    );
    expect(sleeps.rows.map((r) => decodeParams(r.params).sleep_seconds?.value).sort()).toEqual([10n, 10n, 5n, 5n, 5n, 5n]);
    // 6 inner sleeps + 6 job.2; the outer loop and 6 inner loops; 6 outer + 6 inner iterations
    const rollup = await engine.getRollup('sample-nested-foreach-wf', s.workflowInstanceId);
    expect([rollup?.leaves, rollup?.composites, rollup?.children]).toEqual([{ SUCCEEDED: 12 }, { SUCCEEDED: 7 }, { SUCCEEDED: 12 }]);
    expect(errors).toEqual([]);
  });

  // Util.dateIntsBetween excludes its end (SEL conformance cases): 366 dates of 2020 × 3 = 1,098.
  // Its wall time is measured by `npm run bench:foreach` (machine load makes it no test assertion).
  it('sample-large-foreach-wf: 1,098 iterations, 100 at a time, never more created than running', async () => {
    const s = await engine.startWorkflow({ workflowId: 'sample-large-foreach-wf' });
    let most = 0;
    const watch = setInterval(() => {
      void t.db
        .query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE status = 'IN_PROGRESS' AND parent_attempt_pk IS NOT NULL`)
        .then((r) => (most = Math.max(most, r.rows[0]!.n)));
    }, 100);
    try {
      expect(await engine.waitForInstance('sample-large-foreach-wf', s.workflowInstanceId, 170_000)).toBe('SUCCEEDED');
    } finally {
      clearInterval(watch);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(100);
    const kids = await iterations(t.db, 'sample-large-foreach-wf', s.workflowInstanceId, 'job1');
    expect(kids).toHaveLength(1098);
    expect(kids.every((k) => k.status === 'SUCCEEDED')).toBe(true);
    expect(errors).toEqual([]);
  }, 180_000);

  it('keeps every timeline monotone', async () => {
    await assertTimelinesMonotone(t.db);
  });
});
