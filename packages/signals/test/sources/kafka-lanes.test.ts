import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Queryable } from '@baton/engine-core';
import type { SignalSource } from '../../src/model.js';
import { publishInTx } from '../../src/publish.js';
import { GroupCommitter, laneOf } from '../../src/sources/kafka/group-commit.js';
import { normalizeBatch, type NormalizedSignal } from '../../src/validate.js';
import { openTestDb, type TestDb } from '../helpers.js';

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb(16);
});
afterAll(async () => {
  await t?.close();
});

const NAMES = Array.from({ length: 12 }, (_, i) => `lanes/n${i}`);

/** A chunk like one partition's: every name, interleaved, each message with its own request id. */
function chunk(partition: number, from: number, n: number): NormalizedSignal[] {
  return normalizeBatch(
    Array.from({ length: n }, (_, j) => {
      const offset = from + j;
      return { name: NAMES[(offset * 7 + partition) % NAMES.length]!, params: { offset, big: 9007199254740993n }, request_id: `kafka:t:${partition}:${offset}` };
    }),
  );
}

it('spreads names over the lanes, the same way every time', () => {
  const lanes = NAMES.map((n) => laneOf(n, 4));
  expect(new Set(lanes).size).toBe(4);
  expect(NAMES.map((n) => laneOf(n, 4))).toEqual(lanes);
  expect(NAMES.every((n) => laneOf(n, 1) === 0)).toBe(true);
  expect(() => new GroupCommitter(t.db, 100, undefined, 0)).toThrow('lanes must be a positive integer (got 0)');
});

it('keeps per-name seq ids gap-free and every result beside its signal, with two processes of 4 lanes and REST publishers at once', async () => {
  const a = new GroupCommitter(t.db, 2000, undefined, 4);
  const b = new GroupCommitter(t.db, 2000, undefined, 4);
  const sent: { signals: NormalizedSignal[]; results: Promise<Awaited<ReturnType<GroupCommitter['publish']>>> }[] = [];
  const rest: Promise<unknown>[] = [];
  for (let round = 0; round < 6; round++) {
    for (let p = 0; p < 4; p++) {
      const signals = chunk(p, round * 300, 300);
      const sources: SignalSource[] = signals.map((_, j) => ({ type: 'KAFKA', topic: 't', partition: p, offset: String(round * 300 + j) }));
      sent.push({ signals, results: (p % 2 === 0 ? a : b).publish(signals, sources) });
    }
    // A REST batch locks its names in name order too, so it interleaves without deadlocks.
    const batch = normalizeBatch(NAMES.slice().reverse().map((name, i) => ({ name, params: { rest: round * 100 + i } })));
    rest.push(t.db.tx((tx: Queryable) => publishInTx(tx, batch, { type: 'REST' })));
  }
  // A redelivered chunk: every signal already stored or being stored by the first delivery.
  const again = sent[0]!.signals;
  const redelivered = a.publish(again, { type: 'KAFKA', topic: 't', partition: 0 });
  await Promise.all(rest);

  for (const { signals, results } of sent) {
    const got = await results;
    expect(got).toHaveLength(signals.length);
    got.forEach((r, i) => {
      expect(r.name).toBe(signals[i]!.name);
      expect(r.instance_id).toBe(signals[i]!.instanceId);
    });
  }
  const first = await sent[0]!.results;
  const second = await redelivered;
  expect(second.every((r) => r.duplicate)).toBe(true);
  expect(second.map((r) => r.seq_id)).toEqual(first.map((r) => r.seq_id));

  const seqs = await t.db.query<{ name: string; n: number; lo: number; hi: number; last: number }>(
    `SELECT i.name, count(*)::int AS n, min(i.seq_id)::int AS lo, max(i.seq_id)::int AS hi, max(sn.last_seq)::int AS last
     FROM signal_instances i JOIN signal_names sn ON sn.name = i.name WHERE i.name LIKE 'lanes/%' GROUP BY i.name`,
  );
  expect(seqs.rows).toHaveLength(NAMES.length);
  for (const r of seqs.rows) expect([r.lo, r.hi, r.last]).toEqual([1, r.n, r.n]);
  const total = seqs.rows.reduce((s, r) => s + r.n, 0);
  expect(total).toBe(6 * 4 * 300 + 6 * NAMES.length);
  const stored = await t.db.query<{ params: string }>(`SELECT params::text AS params FROM signal_instances WHERE instance_id = 'kafka:t:1:5'`);
  expect(stored.rows[0]!.params).toBe('{"big": 9007199254740993, "offset": 5}');
});

it('fails a chunk when one of its lanes fails, and the retry stores the rest once', async () => {
  const gc = new GroupCommitter(t.db, 2000, undefined, 4);
  const signals = normalizeBatch(NAMES.map((name, i) => ({ name, params: { fail: i }, request_id: `fail:${i}` })));
  // A request time the database cannot cast fails that signal's lane only.
  const broken = signals.map((s, i) => (i === 3 ? { ...s, requestTime: 'not a number' as never } : s));
  await expect(gc.publish(broken, { type: 'KAFKA' })).rejects.toThrow(/invalid input syntax for type bigint/);
  const stored = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_instances WHERE request_id LIKE 'fail:%'`);
  const committed = stored.rows[0]!.n;
  const sameLane = NAMES.filter((n) => laneOf(n, 4) === laneOf(NAMES[3]!, 4)).length;
  expect(committed).toBe(NAMES.length - sameLane);
  const retry = await gc.publish(signals, { type: 'KAFKA' });
  expect(retry.filter((r) => r.duplicate)).toHaveLength(committed);
  expect(retry.filter((r) => !r.duplicate)).toHaveLength(sameLane);
});

it('assumeNew skips the duplicate check, and a batch that meets stored instances is stored again with it, gap-free', async () => {
  const batch = (ids: number[]) => normalizeBatch(ids.map((i) => ({ name: 'lanes/assume', params: { i }, request_id: `assume:${i}` })));
  const first = await t.db.tx((tx: Queryable) => publishInTx(tx, batch([1, 2, 3]), { type: 'KAFKA' }, { assumeNew: true }));
  expect(first.map((r) => [r.seq_id, r.duplicate])).toEqual([[1, false], [2, false], [3, false]]);
  // 2 is stored already: the optimistic insert fails on it, is rolled back, and the checked one runs.
  const second = await t.db.tx((tx: Queryable) => publishInTx(tx, batch([4, 2, 5, 4]), { type: 'KAFKA' }, { assumeNew: true }));
  expect(second.map((r) => [r.seq_id, r.duplicate])).toEqual([[4, false], [2, true], [5, false], [4, true]]);
  // Concurrent optimistic batches overlapping each other and the stored ones.
  await Promise.all(
    Array.from({ length: 8 }, (_, w) => t.db.tx((tx: Queryable) => publishInTx(tx, batch([1 + w, 6 + w, 7 + w, 20 + w * 3]), { type: 'KAFKA' }, { assumeNew: true }))),
  );
  const r = await t.db.query<{ n: number; hi: number; last: number; jobs: number }>(
    `SELECT count(*)::int AS n, max(seq_id)::int AS hi, (SELECT last_seq::int FROM signal_names WHERE name = 'lanes/assume') AS last,
            (SELECT coalesce(sum(coalesce(seq_to, seq_id) - seq_id + 1), 0)::int FROM signal_match_queue WHERE name = 'lanes/assume') AS jobs
     FROM signal_instances WHERE name = 'lanes/assume'`,
  );
  const distinct = new Set([1, 2, 3, 4, 5, ...Array.from({ length: 8 }, (_, w) => [1 + w, 6 + w, 7 + w, 20 + w * 3]).flat()]).size;
  expect(r.rows[0]).toEqual({ n: distinct, hi: distinct, last: distinct, jobs: distinct });
});
