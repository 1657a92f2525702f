import type { Queryable } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDependency } from '../src/dependencies.js';
import type { ConsumedSignal, StepAttemptRef, StepGateListener } from '../src/ports.js';
import { getFromSignalDependency } from '../src/sel-extensions.js';
import { SignalService } from '../src/service.js';
import { openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';
import { definitionWith, triggersFromMaestro } from './maestro-sample.js';

let t: TestDb;
let svc: SignalService;
const opened: { step: StepAttemptRef; matched: (ConsumedSignal | null)[]; how: string }[] = [];
const gates: StepGateListener = {
  async gateOpened(_tx: Queryable, step, matched, how) {
    opened.push({ step, matched, how });
  },
};

beforeAll(async () => {
  t = await openTestDb();
  svc = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, gates });
});
afterAll(async () => {
  await svc?.stop();
  await t?.close();
});

const deps = () => [
  resolveDependency('db/test/table1', { vtts_utc_dateint: { value: '20240101', operator: '>=' }, vtts_utc_hour: { value: '05', operator: '=' } }),
  resolveDependency('db/test/table2', { vtts_utc_dateint: { value: '20240101', operator: '>=' } }),
];

describe('step signal dependencies', () => {
  it('waits until every dependency matches the history, then opens the gate once, without consuming', async () => {
    const step: StepAttemptRef = { workflowId: 'wf-gate', workflowInstanceId: 1, stepId: 'job.1', attempt: 1 };
    const check = await t.db.tx((tx) => svc.registerWaiter(tx, step, deps()));
    expect(check).toEqual({ satisfied: false, matched: [null, null] });
    await svc.publish([{ name: 'db/test/table1', params: { vtts_utc_dateint: '20240102', vtts_utc_hour: '05' } }]);
    await svc.publish([{ name: 'db/test/table2', params: { vtts_utc_dateint: '20231231' } }]);
    await svc.drain();
    expect(opened).toHaveLength(0);
    expect((await svc.getWaiter(step))?.status).toBe('WAITING');

    await svc.publish([{ name: 'db/test/table2', params: { vtts_utc_dateint: '20240101' } }]);
    await svc.drain();
    expect(opened).toHaveLength(1);
    expect(opened[0]!.how).toBe('SIGNALS');
    const state = await svc.getWaiter(step);
    expect(state?.status).toBe('SATISFIED');
    expect(getFromSignalDependency(state!.matched, '0', 'vtts_utc_dateint')).toBe('20240102');
    expect(getFromSignalDependency(state!.matched, '1', 'vtts_utc_dateint')).toBe('20240101');
    expect(() => getFromSignalDependency(state!.matched, '2', 'x')).toThrow('no signal dependency 2');

    // Not consumed: a second step is satisfied by the same history at once.
    const step2: StepAttemptRef = { ...step, workflowInstanceId: 2 };
    expect((await t.db.tx((tx) => svc.registerWaiter(tx, step2, deps()))).satisfied).toBe(true);
    await svc.publish([{ name: 'db/test/table2', params: { vtts_utc_dateint: '20240105' } }]);
    await svc.drain();
    expect(opened).toHaveLength(1);

    const g = await svc.lineageOfWorkflowInstance('wf-gate', 1, 1);
    expect(g.edges.map((e) => `${e.from} ${e.kind} ${e.to}`).sort()).toEqual([
      'signal:db/test/table1#1 UNBLOCKED step:wf-gate/1/job.1/1',
      'signal:db/test/table2#2 UNBLOCKED step:wf-gate/1/job.1/1',
    ]);
  });

  it('matches integers numerically and never across types', async () => {
    const dep = [resolveDependency('gate/int', { n: { value: 10, operator: '>' } })];
    await svc.publish([{ name: 'gate/int', params: { n: '99' } }, { name: 'gate/int', params: { n: 9 } }]);
    expect((await svc.checkDependencies(dep)).satisfied).toBe(false);
    await svc.publish([{ name: 'gate/int', params: { n: 9007199254740993n } }]);
    const check = await svc.checkDependencies(dep);
    expect(check.matched[0]?.params.n).toBe(9007199254740993n);
  });

  it('is released by bypass', async () => {
    const step: StepAttemptRef = { workflowId: 'wf-gate', workflowInstanceId: 3, stepId: 'job.1', attempt: 1 };
    await t.db.tx((tx) => svc.registerWaiter(tx, step, [resolveDependency('never/comes', {})]));
    expect(await t.db.tx((tx) => svc.bypass(tx, step))).toBe(true);
    expect(await t.db.tx((tx) => svc.bypass(tx, step))).toBe(false);
    expect(opened.at(-1)).toMatchObject({ how: 'BYPASS', step });
    expect((await svc.getWaiter(step))?.status).toBe('BYPASSED');
  });

  it('wakes a waiting step as soon as the signal arrives (no polling delay)', async () => {
    const step: StepAttemptRef = { workflowId: 'wf-gate', workflowInstanceId: 4, stepId: 'job.1', attempt: 1 };
    await t.db.tx((tx) => svc.registerWaiter(tx, step, [resolveDependency('gate/live', { k: { value: 'go', operator: '=' } })]));
    const bg = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, gates, sweepIntervalMs: 60_000 });
    await bg.start();
    try {
      const before = opened.length;
      const t0 = Date.now();
      await svc.publish([{ name: 'gate/live', params: { k: 'go' } }]);
      while (opened.length === before) {
        if (Date.now() - t0 > 15_000) throw new Error('gate not opened within 15 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      // Woken, not swept (the sweep is a minute); the bound leaves room for a loaded machine.
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await bg.stop();
    }
  });
});

describe('step signal outputs and lineage', () => {
  it('publishes once per step attempt and records EMITTED; lineage follows signal → run → signal → run', async () => {
    for (const [wf, name] of [
      ['wf-up', 'chain/start'],
      ['wf-down', 'chain/middle'],
    ] as const) {
      await svc.syncSubscriptions(wf, definitionWith(wf, triggersFromMaestro([{ definitions: { [name]: { match_params: {} } } }])));
    }
    await svc.publish([{ name: 'chain/start', params: { day: 1 } }]);
    await svc.drain();
    const up = await t.db.query<{ instance_id: number }>(`SELECT instance_id FROM test_workflow_starts WHERE workflow_id = 'wf-up'`);
    const upId = up.rows[0]!.instance_id;
    const step: StepAttemptRef = { workflowId: 'wf-up', workflowInstanceId: upId, stepId: 'job.1', attempt: 1 };
    const outputs = [
      { name: 'chain/middle', params: { key1: 'v1', key2: 1 }, payload: { note: 'from job.1' } },
      { name: 'dummy/test/signal2', params: { key3: 'v3' } },
    ];
    const first = await t.db.tx((tx) => svc.emitOutputs(tx, step, outputs));
    const second = await t.db.tx((tx) => svc.emitOutputs(tx, step, outputs));
    expect(first.map((r) => r.duplicate)).toEqual([false, false]);
    expect(second).toEqual(first.map((r) => ({ ...r, duplicate: true })));
    const inst = await svc.getInstance('chain/middle', 'latest');
    expect(inst.source).toMatchObject({ type: 'STEP_OUTPUT', workflow_id: 'wf-up', step_id: 'job.1', step_attempt_id: 1 });
    await svc.drain();
    const down = await t.db.query<{ instance_id: number }>(`SELECT instance_id FROM test_workflow_starts WHERE workflow_id = 'wf-down'`);
    expect(down.rows).toHaveLength(1);
    const downId = down.rows[0]!.instance_id;

    const g = await svc.lineageOfSignal('chain/start', 1, 2);
    expect(g.edges.map((e) => `${e.from} ${e.kind} ${e.to}`).sort()).toEqual(
      [
        `signal:chain/start#1 TRIGGERED workflow:wf-up/${upId}`,
        `step:wf-up/${upId}/job.1/1 EMITTED signal:chain/middle#1`,
        `step:wf-up/${upId}/job.1/1 EMITTED signal:dummy/test/signal2#1`,
        `signal:chain/middle#1 TRIGGERED workflow:wf-down/${downId}`,
      ].sort(),
    );
    expect((await svc.lineageOfSignal('chain/start', 1, 1)).edges).toHaveLength(1);
    const upstream = await svc.lineageOfWorkflowInstance('wf-down', downId, 2);
    expect(upstream.nodes.map((n) => n.id)).toEqual(expect.arrayContaining([`workflow:wf-down/${downId}`, 'signal:chain/middle#1', `step:wf-up/${upId}/job.1/1`, `workflow:wf-up/${upId}`, 'signal:chain/start#1']));
    await expect(svc.lineageOfSignal('chain/start', 1, 0)).rejects.toThrow('depth must be an integer from 1 to 20');
  });

  it('rejects an invalid output without storing anything', async () => {
    const step: StepAttemptRef = { workflowId: 'wf-up', workflowInstanceId: 99, stepId: 'job.9', attempt: 1 };
    await expect(t.db.tx((tx) => svc.emitOutputs(tx, step, [{ name: 'ok/one', params: {} }, { name: 'bad//name', params: {} }]))).rejects.toThrow('signal_outputs[1].name');
    await expect(svc.getInstance('ok/one', 'latest')).rejects.toThrow('has no instances');
  });
});
