import type { Db } from '@baton/engine-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SignalNotFoundError } from '../src/errors.js';
import { writeLineage } from '../src/lineage-write.js';
import { runRetentionPass } from '../src/retention.js';
import { RetentionLoop } from '../src/retention-loop.js';
import { setRetentionPolicy, type RetentionPolicy } from '../src/retention-policy.js';
import { retentionStatus } from '../src/retention-status.js';
import { SignalService } from '../src/service.js';
import { purgeTombstones } from '../src/tombstone-purge.js';
import { resolveDependency } from '../src/dependencies.js';
import { emitOutputs } from '../src/outputs.js';
import { countStarts, openBackend, TableStarter, testExpressions } from './helpers.js';
import { definitionWith, triggersFromMaestro } from './maestro-sample.js';

/**
 * Signal tombstones are removed by the retention pass once every run their lineage edges lead to
 * has been purged by run retention; a tombstone a stored run's lineage points at stays. The runs
 * are engine rows (inserted as the engine stores them) purged by the engine's own run purge in
 * the same pass; signals, partitions, lineage and tombstones are the real ones.
 */
const DAY = 86_400_000;
const CLOCK = new Date(Date.now() + 3 * DAY); // the passes' clock: signals (1 day) and old runs have expired
const OLD = new Date(Date.now() - 5 * DAY);
const POLICY: RetentionPolicy = { defaultSeconds: 86_400, names: { 'keep/e': null } };


let open: { close(): Promise<void>; svc: SignalService } | undefined;
afterEach(async () => {
  await open?.svc.stop();
  await open?.close();
  open = undefined;
});

async function addRun(db: Db, wf: string, iid: number, status: string, ended: Date | null, parentAttemptPk: number | null = null): Promise<number> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, created_at, ended_at, parent_attempt_pk, iteration)
     VALUES ($1, 1, $2, 1, $3, $4, $5, $6, $7) RETURNING id`,
    [wf, iid, status, new Date(OLD.getTime() - 60_000), ended, parentAttemptPk, parentAttemptPk === null ? null : 0],
  );
  return Number(r.rows[0]!.id);
}

async function addAttempt(db: Db, instancePk: number, stepId: string): Promise<number> {
  const r = await db.query<{ id: string }>(`INSERT INTO baton_step_attempts (instance_pk, step_id, status) VALUES ($1, $2, 'SUCCEEDED') RETURNING id`, [instancePk, stepId]);
  return Number(r.rows[0]!.id);
}

async function tombstones(db: Db): Promise<string[]> {
  const r = await db.query<{ name: string }>('SELECT name FROM signal_tombstones ORDER BY name, seq_id');
  return r.rows.map((x) => x.name);
}

async function edgesOf(db: Db, name: string): Promise<number> {
  const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_lineage WHERE signal_name = $1', [name]);
  return r.rows[0]!.n;
}

describe.each(['postgres', 'pglite'])('signal tombstone purge on %s', (kind) => {
  it('removes a tombstone once every run its lineage leads to is purged, keeps one a stored run points at', async () => {
    const b = await openBackend(kind);
    const svc = new SignalService(b.db, { starter: new TableStarter(), expressions: testExpressions });
    open = { close: () => b.close(), svc };
    const { db } = b;
    await setRetentionPolicy(db, POLICY);
    await runRetentionPass(db, { now: new Date() }); // today's partitions

    // Runs: tp/1 ended long ago with a loop iteration (both purged by this pass), tp/2 still open.
    const old = await addRun(db, 'tp', 1, 'SUCCEEDED', OLD);
    const each = await addAttempt(db, old, 'each');
    await addRun(db, 'tp#each', 1, 'SUCCEEDED', OLD, each);
    await addRun(db, 'tp', 2, 'IN_PROGRESS', null);
    for (const name of ['a/x', 'b/x', 'c/x', 'd/x', 'keep/e']) await svc.publish([{ name, params: { k: '1' } }]);
    await svc.drain(); // no match job left to keep them
    await writeLineage(db, [
      { kind: 'TRIGGERED', signalName: 'a/x', seqId: 1, workflowId: 'tp', workflowInstanceId: 1 }, // only a purged run
      { kind: 'TRIGGERED', signalName: 'b/x', seqId: 1, workflowId: 'tp', workflowInstanceId: 1 },
      { kind: 'UNBLOCKED', signalName: 'b/x', seqId: 1, workflowId: 'tp', workflowInstanceId: 2, stepId: 'wait', attempt: 1 }, // and a stored one
      { kind: 'EMITTED', signalName: 'c/x', seqId: 1, workflowId: 'tp#each', workflowInstanceId: 1, stepId: 'x', attempt: 1 }, // a purged iteration
      { kind: 'TRIGGERED', signalName: 'd/x', seqId: 1, workflowId: 'ext', workflowInstanceId: 1 }, // a run the engine never stored
      { kind: 'TRIGGERED', signalName: 'keep/e', seqId: 1, workflowId: 'tp', workflowInstanceId: 1 }, // a signal kept forever
    ]);

    // One pass: the signals' partition goes (4 tombstones), the old runs go, then 2 tombstones
    // (walked one per statement here, so the cursor is used).
    const loop = new RetentionLoop(db, { policy: POLICY, runRetentionSeconds: 86_400, now: () => CLOCK, tombstoneBatch: { size: 1 } });
    const pass = await loop.runNow();
    expect(pass.dropped.reduce((n, d) => n + d.tombstones, 0)).toBe(4);
    expect(pass.runs).toMatchObject({ runs: 2, tombstones: 1 });
    expect(pass.tombstones).toEqual({ removed: 2, edges: 2, scanned: 4, more: false });
    expect(await tombstones(db)).toEqual(['b/x', 'd/x']);
    expect(await edgesOf(db, 'a/x')).toBe(0);
    expect(await edgesOf(db, 'c/x')).toBe(0);
    expect(await edgesOf(db, 'b/x')).toBe(2);

    // The stored run's lineage still shows the purged signal's tombstone: name, seq, time.
    const up = await svc.lineageOfWorkflowInstance('tp', 2, 1);
    expect(up.nodes.find((n) => n.id === 'signal:b/x#1')).toMatchObject({
      type: 'signal',
      name: 'b/x',
      seq_id: 1,
      purged: { instance_id: expect.any(String), create_time: expect.any(Number), purged_at: CLOCK.getTime() },
    });
    // A signal whose tombstone went has no lineage any more; the retained signal still points at its purged run.
    await expect(svc.lineageOfSignal('a/x', 1, 1)).rejects.toThrow(SignalNotFoundError);
    const down = await svc.lineageOfSignal('keep/e', 1, 1);
    expect(down.nodes.find((n) => n.id === 'workflow:tp/1')).toMatchObject({ purged: { status: 'SUCCEEDED' } });
    const ofPurged = await svc.lineageOfWorkflowInstance('tp', 1, 1);
    expect(ofPurged.nodes.map((n) => n.id).sort()).toEqual(['signal:b/x#1', 'signal:keep/e#1', 'workflow:tp/1']);

    const status = await retentionStatus(db);
    expect(status.tombstones).toEqual({ rows: 2, oldestPurgedAt: CLOCK.toISOString() });

    // The open run ends and expires: the next pass purges it, then b/x's tombstone with its edges.
    await db.query(`UPDATE baton_workflow_instances SET status = 'SUCCEEDED', ended_at = $1 WHERE workflow_id = 'tp' AND instance_id = 2`, [OLD]);
    const next = await loop.runNow();
    expect(next.runs).toMatchObject({ runs: 1 });
    expect(next.tombstones).toMatchObject({ removed: 1, edges: 2, more: false });
    expect(await tombstones(db)).toEqual(['d/x']);
    expect((await svc.lineageOfWorkflowInstance('tp', 1, 1)).nodes.map((n) => n.id).sort()).toEqual(['signal:keep/e#1', 'workflow:tp/1']);
    // A pass that purged no run and wrote no tombstone has nothing new to remove: it does not walk.
    expect((await loop.runNow()).tombstones).toEqual({ removed: 0, edges: 0, scanned: 0, more: false });
    // A new process's first pass walks (another process may have purged runs in between): d/x stays.
    const other = new RetentionLoop(db, { policy: POLICY, runRetentionSeconds: 86_400, now: () => CLOCK });
    expect((await other.runNow()).tombstones).toEqual({ removed: 0, edges: 0, scanned: 1, more: false });
  });

  it('stops at its batch limit and the next call continues after its cursor', async () => {
    const b = await openBackend(kind);
    const svc = new SignalService(b.db, { starter: new TableStarter(), expressions: testExpressions });
    open = { close: () => b.close(), svc };
    const { db } = b;
    await db.query(
      `INSERT INTO baton_run_tombstones (workflow_id, instance_id, runs, last_run_id, status, created_at, ended_at, purged_at)
       SELECT 'gone', g, 1, 1, 'SUCCEEDED', now(), now(), now() FROM generate_series(1, 5) g`,
    );
    await db.query(`INSERT INTO signal_tombstones (name, seq_id, instance_id, create_time) SELECT 's/' || g, 1, 'i' || g, now() FROM generate_series(1, 5) g`);
    await writeLineage(
      db,
      [1, 2, 3, 4, 5].map((g) => ({ kind: 'TRIGGERED' as const, signalName: `s/${g}`, seqId: 1, workflowId: 'gone', workflowInstanceId: g })),
    );
    const first = await purgeTombstones(db, { batchSize: 2, maxBatches: 2 });
    expect(first).toMatchObject({ removed: 4, edges: 4, scanned: 4, batches: 2, cursor: { name: 's/4', seq: '1' } });
    const rest = await purgeTombstones(db, { batchSize: 2, maxBatches: 2, after: first.cursor });
    expect(rest).toMatchObject({ removed: 1, edges: 1, scanned: 1, batches: 1, cursor: null });
    expect(await tombstones(db)).toEqual([]);
  });

  it("deletes the step waiters and output records of purged runs, and the trigger consumptions of purged signals", async () => {
    const b = await openBackend(kind);
    const svc = new SignalService(b.db, { starter: new TableStarter(), expressions: testExpressions });
    open = { close: () => b.close(), svc };
    const { db } = b;
    await setRetentionPolicy(db, POLICY);
    await runRetentionPass(db, { now: new Date() });
    await addRun(db, 'tp', 1, 'SUCCEEDED', OLD);
    await addRun(db, 'tp', 2, 'IN_PROGRESS', null);
    // A waiter left WAITING in the run that ended, one in the open run; each run's step emitted a signal.
    for (const iid of [1, 2]) {
      const step = { workflowId: 'tp', workflowInstanceId: iid, stepId: 'wait', attempt: 1 };
      expect((await db.tx((tx) => svc.registerWaiter(tx, step, [resolveDependency('gate/never', {})]))).satisfied).toBe(false);
      await db.tx((tx) => emitOutputs(tx, { ...step, stepId: 'emit' }, [{ name: 'out/x', params: { k: String(iid) } }]));
    }
    // A trigger consumes a signal: its consumption row lives as long as the signal.
    const def = definitionWith('wf-c', triggersFromMaestro([{ definitions: { 'trig/x': { match_params: { k: { value: '1', operator: '=' } } } } }]));
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.publish([{ name: 'trig/x', params: { k: '1' } }]);
    await svc.drain();
    expect(await countStarts(db, 'wf-c')).toBe(1);
    const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    expect(await count('signal_trigger_consumptions')).toBe(1);
    expect(await count('signal_step_waiters')).toBe(2);
    expect(await count('signal_step_outputs')).toBe(2);

    const loop = new RetentionLoop(db, { policy: POLICY, runRetentionSeconds: 86_400, now: () => CLOCK });
    const pass = await loop.runNow();
    expect(pass.runs).toMatchObject({ runs: 1 });
    expect(pass.runSignalRows).toEqual({ waiters: 1, outputs: 1 });
    expect(await count('signal_trigger_consumptions')).toBe(0);
    const left = await db.query<{ workflow_instance_id: string; status: string }>('SELECT workflow_instance_id, status FROM signal_step_waiters');
    expect(left.rows).toEqual([{ workflow_instance_id: '2', status: 'WAITING' }]);
    const outs = await db.query<{ attempt_ref: string }>('SELECT attempt_ref FROM signal_step_outputs');
    expect(outs.rows.map((r) => JSON.parse(r.attempt_ref) as unknown[])).toEqual([['tp', '2', 'emit', 1]]);
    expect((await loop.runNow()).runSignalRows).toEqual({ waiters: 0, outputs: 0 });
  });
});
