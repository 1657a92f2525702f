import { engineMigrations, migrate, PGliteDb, type Db, type Queryable } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDependency } from '../src/dependencies.js';
import { pauseSignalTriggersInTx } from '../src/pauses.js';
import { ensurePartitions } from '../src/partitions.js';
import { signalsMigrations } from '../src/migrations.js';
import { SignalService } from '../src/service.js';
import { explainStepWait } from '../src/wait-step.js';
import { explainTriggerWaits } from '../src/wait-trigger.js';
import { countStarts, openTestDb, STARTS_TABLE, TableStarter, testExpressions, type TestDb as TestDbHandle } from './helpers.js';
import { definitionWith, triggersFromMaestro } from './maestro-sample.js';

// "Why is this waiting?" on both databases the service runs on: the same reads, the same answers.
const backends: { name: string; open: () => Promise<{ db: Db; close: () => Promise<void> }> }[] = [
  {
    name: 'PGlite',
    open: async () => {
      const db = await PGliteDb.open({});
      await migrate(db, [engineMigrations, signalsMigrations]);
      await db.exec(STARTS_TABLE);
      return { db, close: () => db.close() };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const t = await openTestDb(4);
      return { db: t.db, close: () => t.close() };
    },
  },
];

describe.each(backends)('why waiting on $name', ({ open }) => {
  let db: Db;
  let close: () => Promise<void>;
  let svc: SignalService;
  beforeAll(async () => {
    ({ db, close } = await open());
    svc = new SignalService(db, { starter: new TableStarter(), expressions: testExpressions });
  });
  afterAll(async () => {
    await svc?.stop();
    await close?.();
  });

  it('a waiting step: the met dependency names its signal, the unmet one its closest misses and why', async () => {
    const step = { workflowId: 'wf-step', workflowInstanceId: 7, stepId: 'load', attempt: 1 };
    await svc.publish([{ name: 'step/a', params: { day: 20240102, region: 'us' } }]);
    const deps = [
      resolveDependency('step/a', { day: { value: 20240101, operator: '>=' }, region: { value: 'us' } }),
      resolveDependency('step/b', { hour: { value: '05', operator: '=' }, size: { value: 100, operator: '>' } }),
    ];
    const check = await db.tx((tx) => svc.registerWaiter(tx, step, deps));
    expect(check.satisfied).toBe(false);
    await svc.publish([{ name: 'step/b', params: { hour: '06', size: 50 } }]); // two misses: value and operator
    await svc.publish([{ name: 'step/b', params: { hour: '05', size: 50 } }]); // operator only
    await svc.publish([{ name: 'step/b', params: { hour: 5, size: 500 } }]); // an integer where a string is compared
    await svc.drain();

    const why = await explainStepWait(db, step, { closest: 3 });
    expect(why.waiter_status).toBe('WAITING');
    expect(why.conditions).toHaveLength(2);
    const [a, b] = why.conditions;
    expect(a).toMatchObject({ signal_name: 'step/a', met: true, closest: [] });
    expect(a!.matched_by).toMatchObject({ name: 'step/a', seq_id: 1, params: { day: 20240102, region: 'us' } });
    expect(a!.matched_by!.create_time).toBeInstanceOf(Date);

    expect(b).toMatchObject({ signal_name: 'step/b', met: false, matched_by: null, scanned: 3 });
    // One mismatch each for seq 3 and 2 (newest first), then seq 1 with two.
    expect(b!.closest.map((m) => [m.signal.seq_id, m.mismatches.length])).toEqual([
      [3, 1],
      [2, 1],
      [1, 2],
    ]);
    expect(b!.closest[0]!.mismatches[0]).toMatchObject({ kind: 'param', param: 'hour', operator: '=', expected: '05', actual: 5 });
    expect(b!.closest[0]!.mismatches[0]!.message).toContain('is an integer (5), not a string');
    expect(b!.closest[1]!.mismatches[0]).toMatchObject({ kind: 'param', param: 'size', operator: '>', expected: 100, actual: 50, message: 'size > 100: actual 50' });
    expect(b!.closest[2]!.mismatches.map((m) => m.param)).toEqual(['hour', 'size']);

    // Bounded: a scan limit of 1 reads one instance and reports one miss.
    const narrow = await explainStepWait(db, step, { scanLimit: 1 });
    expect(narrow.conditions[1]).toMatchObject({ scanned: 1, met: false });
    expect(narrow.conditions[1]!.closest).toHaveLength(1);

    // Once the last dependency is met, the gate opens and the explanation shows who met it.
    await svc.publish([{ name: 'step/b', params: { hour: '05', size: 101 } }]);
    await svc.drain();
    const after = await explainStepWait(db, step);
    expect(after.waiter_status).toBe('SATISFIED');
    expect(after.conditions.map((c) => c.met)).toEqual([true, true]);
    expect(after.conditions[1]!.matched_by).toMatchObject({ seq_id: 4, params: { hour: '05', size: 101 } });
  });

  it('a dependency met below the scanned window is still found (bounded range below it)', async () => {
    const step = { workflowId: 'wf-deep', workflowInstanceId: 1, stepId: 's', attempt: 1 };
    await svc.publish([{ name: 'deep/a', params: { v: 1 } }]);
    await svc.publish(Array.from({ length: 5 }, (_, i) => ({ name: 'deep/a', params: { v: 100 + i } })));
    await db.tx((tx) => svc.registerWaiter(tx, step, [resolveDependency('deep/a', { v: { value: 1 } }), resolveDependency('deep/b', {})]));
    const why = await explainStepWait(db, step, { scanLimit: 2 });
    expect(why.conditions[0]).toMatchObject({ met: true, scanned: 2 });
    expect(why.conditions[0]!.matched_by).toMatchObject({ seq_id: 1 });
    expect(why.conditions[1]).toMatchObject({ met: false, scanned: 0, closest: [] });
  });

  it('a step without signal dependencies has nothing to explain', async () => {
    const why = await explainStepWait(db, { workflowId: 'none', workflowInstanceId: 1, stepId: 'x', attempt: 1 });
    expect(why).toMatchObject({ waiter_status: null, conditions: [] });
  });

  it('a partial join: the held signal is met, the missing one lists join-key, value and range misses', async () => {
    const wf = 'wf-join';
    const trig = triggersFromMaestro([
      {
        definitions: {
          'join/left': { match_params: { day: { value: 20240101, operator: '>=' } }, join_keys: ['day'] },
          'join/right': { match_params: { kind: { value: 'full', operator: '=' }, watermark: { value: 10, operator: '>=', and: { value: 20, operator: '<' } } }, join_keys: ['date'] },
        },
      },
    ]);
    await svc.publish([{ name: 'join/right', params: { kind: 'full', date: 20240105, watermark: 11 } }]); // before activation
    await svc.syncSubscriptions(wf, definitionWith(wf, trig));
    await svc.publish([{ name: 'join/left', params: { day: 20240105 } }]);
    await svc.publish([{ name: 'join/right', params: { kind: 'full', date: 20240106, watermark: 15 } }]); // other join key
    await svc.publish([{ name: 'join/right', params: { kind: 'partial', date: 20240105, watermark: 15 } }]); // value
    await svc.publish([{ name: 'join/right', params: { kind: 'full', date: 20240105, watermark: 25 } }]); // range upper bound
    await svc.drain();
    expect(await countStarts(db, wf)).toBe(0);

    const why = await explainTriggerWaits(db, wf);
    expect(why.triggers).toHaveLength(1);
    const t = why.triggers[0]!;
    expect(t).toMatchObject({ signal_names: ['join/left', 'join/right'], paused: false, partial_joins: 2 });
    const join = t.joins.find((j) => j.join_values?.[0] === 20240105)!;
    expect(join.complete).toBe(false);
    const [left, right] = join.conditions;
    expect(left).toMatchObject({ met: true, expected_join: { day: 20240105 } });
    expect(left!.matched_by).toMatchObject({ name: 'join/left', seq_id: 1 });
    expect(right).toMatchObject({ met: false, expected_join: { date: 20240105 }, scanned: 4 });
    const bySeq = new Map(right!.closest.map((m) => [Number(m.signal.seq_id), m.mismatches]));
    expect(bySeq.get(4)).toEqual([expect.objectContaining({ kind: 'param', param: 'watermark', operator: '<', expected: 20, actual: 25 })]);
    expect(bySeq.get(3)).toEqual([expect.objectContaining({ kind: 'param', param: 'kind', operator: '=', expected: 'full', actual: 'partial' })]);
    expect(bySeq.get(2)).toEqual([expect.objectContaining({ kind: 'join_key', param: 'date', expected: 20240105, actual: 20240106 })]);
    expect(right!.closest.map((m) => Number(m.signal.seq_id))).toEqual([4, 3, 2]);

    // The fourth miss is the signal published before activation.
    const wide = await explainTriggerWaits(db, wf, { closest: 10 });
    const early = wide.triggers[0]!.joins.find((j) => j.join_values?.[0] === 20240105)!.conditions[1]!.closest.find((m) => Number(m.signal.seq_id) === 1)!;
    expect(early.mismatches.map((m) => m.kind)).toEqual(['before_active']);

    // The other join holds the right signal and waits for a left one with day 20240106.
    const other = t.joins.find((j) => j.join_values?.[0] === 20240106)!;
    expect(other.conditions.map((c) => c.met)).toEqual([false, true]);
    expect(other.conditions[0]!.closest[0]!.mismatches).toEqual([expect.objectContaining({ kind: 'join_key', param: 'day', expected: 20240106, actual: 20240105 })]);

    // The matching signal completes the first join: it fires, and that join is no longer pending.
    await svc.publish([{ name: 'join/right', params: { kind: 'full', date: 20240105, watermark: 12 } }]);
    await svc.drain();
    expect(await countStarts(db, wf)).toBe(1);
    const after = await explainTriggerWaits(db, wf);
    expect(after.triggers[0]!.partial_joins).toBe(1);
    expect(after.triggers[0]!.joins.map((j) => j.join_values)).toEqual([[20240106]]);
    // The consumed left signal is named as such, beside its join key mismatch.
    const left2 = after.triggers[0]!.joins[0]!.conditions[0]!;
    expect(left2.closest[0]!.mismatches.map((m) => m.kind)).toEqual(['join_key', 'consumed']);
  });

  it('a trigger that holds nothing is one empty join; trigger ids filter', async () => {
    const wf = 'wf-empty';
    await svc.syncSubscriptions(wf, definitionWith(wf, triggersFromMaestro([{ definitions: { 'empty/x': { match_params: { n: { value: 3, operator: '>' } } } } }])));
    await svc.publish([{ name: 'empty/x', params: { n: 2 } }]);
    await svc.drain();
    const why = await explainTriggerWaits(db, wf);
    const t = why.triggers[0]!;
    expect(t.partial_joins).toBe(0);
    expect(t.joins).toHaveLength(1);
    expect(t.joins[0]).toMatchObject({ join_values: null, complete: false });
    expect(t.joins[0]!.conditions[0]!.closest[0]!.mismatches).toEqual([expect.objectContaining({ kind: 'param', param: 'n', operator: '>', expected: 3, actual: 2 })]);
    expect((await explainTriggerWaits(db, wf, { triggerId: 'nope' })).triggers).toEqual([]);
    expect((await explainTriggerWaits(db, wf, { triggerId: t.trigger_id })).triggers).toHaveLength(1);
    expect((await explainTriggerWaits(db, 'no-such-workflow')).triggers).toEqual([]);

    // Paused: a matching signal published during the pause is named as such.
    await db.tx((tx) => pauseSignalTriggersInTx(tx, { workflowId: wf }));
    await svc.publish([{ name: 'empty/x', params: { n: 9 } }]);
    await svc.drain();
    const paused = (await explainTriggerWaits(db, wf)).triggers[0]!;
    expect(paused.paused).toBe(true);
    expect(paused.paused_at).toBeInstanceOf(Date);
    const miss = paused.joins[0]!.conditions[0]!.closest[0]!;
    expect(miss.signal.params).toEqual({ n: 9 });
    expect(miss.mismatches).toEqual([expect.objectContaining({ kind: 'paused', expected: paused.paused_at!.toISOString() })]);
  });
});


describe('why waiting reads on a big history (PostgreSQL)', () => {
  let t: TestDbHandle;
  beforeAll(async () => {
    t = await openTestDb(2);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every read of the explanations is an index scan: no table is read whole', async () => {
    const svc = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions });
    const wf = 'wf-big';
    await svc.syncSubscriptions(wf, definitionWith(wf, triggersFromMaestro([{ definitions: { 'big/l': { match_params: {}, join_keys: ['k'] }, 'big/r': { match_params: { v: { value: 5, operator: '>' } }, join_keys: ['k'] } } }])));
    // 200,000 instances over 20 names; 50,000 waiting halves and 50,000 consumptions of other triggers.
    await t.db.exec(`INSERT INTO signal_instances (name, seq_id, instance_id, params)
      SELECT 'big/' || (g % 20), g, 'i-' || g, jsonb_build_object('k', g % 1000, 'v', g % 7) FROM generate_series(1, 200000) g`);
    await t.db.exec(`INSERT INTO signal_trigger_candidates (workflow_id, trigger_id, signal_name, seq_id, join_key, signal_time)
      SELECT 'other-' || (g % 50), 't', 'big/' || (g % 20), g, '[' || (g % 1000) || ']', now() FROM generate_series(1, 50000) g`);
    await t.db.exec(`INSERT INTO signal_trigger_firings (workflow_id, trigger_id, request_id, join_key, signals, outcome)
      SELECT 'other-' || (g % 50), 't', 'r-' || g, '[]', '[]', 'STARTED' FROM generate_series(1, 50000) g`);
    await t.db.exec(`INSERT INTO signal_trigger_consumptions (workflow_id, trigger_id, signal_name, seq_id, firing_id)
      SELECT workflow_id, trigger_id, 'big/' || (id % 20), id, id FROM signal_trigger_firings`);
    // The day partitions the service creates ahead at start-up, so published signals land in theirs.
    await ensurePartitions(t.db, new Date(), new Date(Date.now() + 40 * 86_400_000));
    await svc.publish([{ name: 'big/l', params: { k: 1 } }, { name: 'big/r', params: { k: 2, v: 9 } }, { name: 'big/r', params: { k: 1, v: 1 } }]);
    await svc.drain();
    await t.db.exec('ANALYZE signal_instances; ANALYZE signal_trigger_candidates; ANALYZE signal_trigger_consumptions; ANALYZE signal_trigger_firings; ANALYZE signal_subscriptions');
    const step = { workflowId: wf, workflowInstanceId: 1, stepId: 's', attempt: 1 };
    await t.db.tx((tx) => svc.registerWaiter(tx, step, [resolveDependency('big/3', { v: { value: 100, operator: '>' } }), resolveDependency('big/l', { k: { value: 1 } })]));

    const seen: { sql: string; params: readonly unknown[] }[] = [];
    const spy = { query: (sql: string, params: readonly unknown[] = []) => (seen.push({ sql, params }), t.db.query(sql, params)) } as Queryable;
    const why = await explainStepWait(spy, step, { scanLimit: 100 });
    expect(why.conditions.map((c) => c.met)).toEqual([false, true]);
    const trig = await explainTriggerWaits(spy, wf);
    expect(trig.triggers[0]!.partial_joins).toBe(2);
    expect(seen.length).toBeGreaterThan(4);
    // The partitions holding the big history (a partition of a few rows is rightly read whole).
    const filled = new Set(
      (await t.db.query<{ p: string }>('SELECT tableoid::regclass::text AS p FROM signal_instances GROUP BY 1 HAVING count(*) > 1000')).rows.map((r) => r.p),
    );
    expect(filled.size).toBeGreaterThan(0);
    const all: string[] = [];
    for (const { sql, params } of seen) {
      const plan = await t.db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, [...params]);
      const scans: string[] = [];
      const walk = (n: Record<string, unknown>): void => {
        if (typeof n['Relation Name'] === 'string') scans.push(`${n['Node Type'] as string} on ${n['Relation Name']}`);
        for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
      };
      walk((plan.rows[0]!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      all.push(...scans);
      // signal_instances is partitioned by expiry day: a whole read of a partition holding the
      // history counts.
      expect(
        scans.filter((x) => {
          const rel = x.replace(/^Seq Scan on /, '');
          return x.startsWith('Seq Scan on ') && (/^signal_(instances|trigger_candidates|trigger_consumptions)$/.test(rel) || filled.has(rel));
        }),
        `${sql}\n${scans.join('; ')}`,
      ).toEqual([]);
    }
    // The walk sees the plans' scans: the reads go through the tables' keys.
    expect(all.filter((x) => /^Index (Only )?Scan/.test(x)).map((x) => x.replace(/^.* on /, '').replace(/^signal_instances_p_\w+$/, 'signal_instances')).sort()).toEqual(
      expect.arrayContaining(['signal_instances', 'signal_trigger_candidates', 'signal_trigger_consumptions']),
    );
  }, 120_000);
});
