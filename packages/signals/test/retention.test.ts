import type { Db } from '@baton/engine-core';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveDependency } from '../src/dependencies.js';
import { SignalNotFoundError } from '../src/errors.js';
import { listPartitions } from '../src/partitions.js';
import { publishInTx } from '../src/publish.js';
import { normalizeBatch } from '../src/validate.js';
import { runRetentionPass } from '../src/retention.js';
import { setRetentionPolicy } from '../src/retention-policy.js';
import { retentionStatus } from '../src/retention-status.js';
import { SignalService } from '../src/service.js';
import { countStarts, openBackend, TableStarter, testExpressions } from './helpers.js';
import { definitionWith, triggersFromMaestro } from './maestro-sample.js';

const DAY = 86_400_000;
const days = (n: number) => new Date(Date.now() + n * DAY);

interface Backend {
  db: Db;
  close(): Promise<void>;
}


let open: { b: Backend; svc: SignalService } | undefined;
afterEach(async () => {
  await open?.svc.stop();
  await open?.b.close();
  open = undefined;
});

async function setup(kind: string): Promise<{ db: Db; svc: SignalService }> {
  const b = await openBackend(kind);
  const svc = new SignalService(b.db, { starter: new TableStarter(), expressions: testExpressions });
  open = { b, svc };
  return { db: b.db, svc };
}

async function whereIs(db: Db, name: string): Promise<string[]> {
  const r = await db.query<{ p: string }>('SELECT tableoid::regclass::text AS p FROM signal_instances WHERE name = $1 ORDER BY seq_id', [name]);
  return r.rows.map((x) => x.p);
}

async function stored(svc: SignalService, name: string, seq: number): Promise<boolean> {
  try {
    await svc.getInstance(name, seq);
    return true;
  } catch (err) {
    if (err instanceof SignalNotFoundError) return false;
    throw err;
  }
}

const joinTrigger = (workflowId: string) =>
  definitionWith(
    workflowId,
    triggersFromMaestro([
      {
        definitions: {
          [`${workflowId}/left`]: { match_params: { day: { value: 20240101, operator: '>=' } }, join_keys: ['day'] },
          [`${workflowId}/right`]: { match_params: { kind: { value: 'full', operator: '=' } }, join_keys: ['date'] },
        },
      },
    ]),
  );

describe.each(['postgres', 'pglite'])('signal retention on %s', (kind) => {
  it('creates day partitions ahead and drops whole expired ones, per name', async () => {
    const { db, svc } = await setup(kind);
    await setRetentionPolicy(db, { defaultSeconds: 86_400, names: { 'keep/long': 10 * 86_400, 'keep/forever': null } });
    const first = await runRetentionPass(db, { now: days(0) });
    // The new database's empty first partition ended at today's midnight: dropped.
    expect(first.dropped.map((d) => d.partition)).toEqual(['signal_instances_p_legacy']);
    const parts = await listPartitions(db);
    const last = parts.filter((p) => !p.isDefault && !p.forever).at(-1)!;
    expect(last.to!.getTime()).toBeGreaterThanOrEqual(days(12).getTime());
    expect(parts.filter((p) => !p.isDefault && !p.forever).length).toBeGreaterThanOrEqual(12);
    expect((await runRetentionPass(db, { now: days(0) })).created).toEqual([]);

    await svc.publish([
      { name: 'keep/short', params: { a: '1' } },
      { name: 'keep/long', params: { a: '1' } },
      { name: 'keep/forever', params: { a: '1' } },
    ]);
    await svc.drain();
    expect((await whereIs(db, 'keep/short'))[0]).toMatch(/^signal_instances_p\d{8}$/);
    expect(await whereIs(db, 'keep/forever')).toEqual(['signal_instances_p_forever']);
    const status = await retentionStatus(db);
    expect(status.tables.find((t) => t.table === 'signal_instances')!.rows).toBe(3);
    expect(status.oldestRetained).not.toBeNull();

    const pass = await runRetentionPass(db, { now: days(3) });
    expect(pass.dropped.reduce((n, d) => n + d.rows, 0)).toBe(1);
    expect(await stored(svc, 'keep/short', 1)).toBe(false);
    expect(await stored(svc, 'keep/long', 1)).toBe(true);
    expect((await listPartitions(db)).filter((p) => !p.isDefault && !p.forever)[0]!.from!.getTime()).toBeGreaterThan(days(1).getTime());
    await runRetentionPass(db, { now: days(13) });
    expect(await stored(svc, 'keep/long', 1)).toBe(false);
    expect(await stored(svc, 'keep/forever', 1)).toBe(true);
    // The purged instance's dedupe key went with it: publishing it again stores a new instance.
    const [again] = await svc.publish([{ name: 'keep/short', params: { a: '1' }, request_id: 'later' }]);
    expect(again!.duplicate).toBe(false);
  });

  it('recreates a day a pass dropped ahead of the clock when rows still arrive for it, and drops it again', async () => {
    // A pass whose clock runs ahead of the database's (clock skew; the chaos harness's test offset)
    // drops the day publishers still store rows in: those rows land in the DEFAULT partition, and
    // must not stay there for good.
    const { db, svc } = await setup(kind);
    await setRetentionPolicy(db, { defaultSeconds: 3600, names: {} });
    await runRetentionPass(db, { now: days(0) });
    const ahead = () => new Date(Date.now() + 25 * 3_600_000);
    await svc.publish([{ name: 'skew/a', params: { a: '1' } }]);
    await svc.drain();
    const dayPartition = (await whereIs(db, 'skew/a'))[0]!;
    expect(dayPartition).toMatch(/^signal_instances_p\d{8}$/);
    const first = await runRetentionPass(db, { now: ahead() });
    expect(first.dropped.map((d) => d.partition)).toContain(dayPartition);
    expect(await stored(svc, 'skew/a', 1)).toBe(false);

    await svc.publish([{ name: 'skew/a', params: { a: '2' } }]);
    await svc.drain();
    expect(await whereIs(db, 'skew/a')).toEqual(['signal_instances_p_default']);
    const second = await runRetentionPass(db, { now: ahead() });
    expect(second.created).toContain(dayPartition);
    expect(second.dropped.map((d) => d.partition)).toContain(dayPartition);
    expect(await stored(svc, 'skew/a', 2)).toBe(false);
    expect((await db.query('SELECT 1 FROM signal_instances_p_default')).rows).toEqual([]);
  });

  it('dedupes one idempotency key published either side of a partition boundary', async () => {
    const { db, svc } = await setup(kind);
    await setRetentionPolicy(db, { defaultSeconds: 86_400, names: {} });
    await runRetentionPass(db, { now: days(0) });
    const [a] = await svc.publish([{ name: 'dedupe/x', params: { v: '1' }, request_id: 'key-1' }]);
    // A longer retention puts the next instance of the name in a partition days later.
    await setRetentionPolicy(db, { defaultSeconds: 5 * 86_400, names: {} });
    await svc.publish([{ name: 'dedupe/x', params: { v: '2' }, request_id: 'key-2' }]);
    const [b] = await svc.publish([{ name: 'dedupe/x', params: { v: '1' }, request_id: 'key-1' }]);
    expect(b).toEqual({ ...a, duplicate: true });
    const parts = await whereIs(db, 'dedupe/x');
    expect(parts).toHaveLength(2);
    expect(parts[0]).not.toBe(parts[1]);
    // The insert that skips the duplicate check fails on the dedupe key and is retried with it.
    const again = await db.tx((tx) => publishInTx(tx, normalizeBatch([{ name: 'dedupe/x', params: { v: '1' }, request_id: 'key-1' }]), { type: 'REST' }, { assumeNew: true }));
    expect(again[0]).toEqual({ ...a, duplicate: true });
    const n = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_instances WHERE name = 'dedupe/x'`);
    expect(n.rows[0]!.n).toBe(2);

    // A pass that stopped after detaching a partition (a crash) is finished by the next one.
    await db.query(`ALTER TABLE signal_instances DETACH PARTITION ${parts[0]}`);
    const pass = await runRetentionPass(db, { now: days(0) });
    expect(pass.dropped).toEqual([{ partition: parts[0], kept: 0, rows: 1, tombstones: 0 }]);
    const [c] = await svc.publish([{ name: 'dedupe/x', params: { v: '1' }, request_id: 'key-1' }]);
    expect(c).toMatchObject({ seq_id: 3, duplicate: false });
  });

  it('keeps what a partial join, a pending match job or a waiting step still needs; lineage of a purged signal shows its tombstone', async () => {
    const { db, svc } = await setup(kind);
    await setRetentionPolicy(db, { defaultSeconds: 86_400, names: {} });
    await runRetentionPass(db, { now: days(0) });
    const def = joinTrigger('wf-keep');
    await svc.syncSubscriptions(def.workflowId, def);
    const pend = definitionWith('wf-pend', triggersFromMaestro([{ definitions: { 'pending/x': { match_params: { x: { value: '1', operator: '=' } } } } }]));
    await svc.syncSubscriptions(pend.workflowId, pend);
    await svc.publish([{ name: 'wf-keep/left', params: { day: 20240105 } }]); // half a join
    await svc.publish([{ name: 'gate/a', params: { x: '1' } }, { name: 'free/x', params: { x: '1' } }]);
    await svc.drain();
    const step = { workflowId: 'wf-gate', workflowInstanceId: 1, stepId: 'job.1', attempt: 1 };
    const deps = [resolveDependency('gate/a', {}), resolveDependency('gate/b', {})];
    expect((await db.tx((tx) => svc.registerWaiter(tx, step, deps))).satisfied).toBe(false);
    await svc.publish([{ name: 'pending/x', params: { x: '1' } }]); // its match job is not processed yet

    const pass = await runRetentionPass(db, { now: days(3) });
    expect(pass.dropped.reduce((n, d) => n + d.kept, 0)).toBe(3);
    expect(await stored(svc, 'free/x', 1)).toBe(false);
    for (const name of ['wf-keep/left', 'gate/a', 'pending/x']) expect(await stored(svc, name, 1)).toBe(true);
    // The match job and the candidate named the partition the kept rows left: no longer (the
    // matcher then looks in every partition, and finds them where they were moved).
    expect((await db.query('SELECT 1 FROM signal_match_queue WHERE expire_at IS NOT NULL')).rows).toHaveLength(0);
    expect((await db.query('SELECT 1 FROM signal_trigger_candidates WHERE signal_expire_at IS NOT NULL')).rows).toHaveLength(0);

    // What was kept is used: the join completes, the step opens with the kept match. (The test's
    // clock ran 3 days ahead of the database's, so these expire in 4 days, after the clock's now.)
    await setRetentionPolicy(db, { defaultSeconds: 4 * 86_400, names: {} });
    await svc.publish([{ name: 'wf-keep/right', params: { kind: 'full', date: 20240105 } }, { name: 'gate/b', params: {} }]);
    await svc.drain();
    expect(await countStarts(db, 'wf-keep')).toBe(1);
    expect(await countStarts(db, 'wf-pend')).toBe(1);
    const waiter = await svc.getWaiter(step);
    expect(waiter?.status).toBe('SATISFIED');
    expect(waiter?.matched[0]?.name).toBe('gate/a');

    // Nothing needs them now: the next passes purge them; lineage keeps tombstones.
    await runRetentionPass(db, { now: days(5) });
    await runRetentionPass(db, { now: days(7) });
    expect(await stored(svc, 'wf-keep/left', 1)).toBe(false);
    const g = await svc.lineageOfSignal('wf-keep/left', 1, 2);
    const node = g.nodes.find((n) => n.id === 'signal:wf-keep/left#1');
    expect(node).toMatchObject({ type: 'signal', name: 'wf-keep/left', seq_id: 1, purged: { instance_id: expect.any(String), create_time: expect.any(Number) } });
    expect(g.edges.some((e) => e.from === 'signal:wf-keep/left#1' && e.kind === 'TRIGGERED')).toBe(true);
    const up = await svc.lineageOfWorkflowInstance('wf-gate', 1, 1);
    expect(up.nodes.find((n) => n.id === 'signal:gate/a#1')).toMatchObject({ purged: { instance_id: expect.any(String) } });
    // A purged instance nothing points to leaves no tombstone.
    await expect(svc.lineageOfSignal('free/x', 1, 1)).rejects.toThrow(SignalNotFoundError);
    const tomb = await db.query<{ name: string }>('SELECT name FROM signal_tombstones ORDER BY name');
    expect(tomb.rows.map((r) => r.name)).toEqual(['gate/a', 'gate/b', 'pending/x', 'wf-keep/left', 'wf-keep/right']);
  });
});
