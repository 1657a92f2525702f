import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, PGliteDb, type Queryable } from '@baton/engine-core';
import { signalsMigrations } from '../../src/migrations.js';
import { GroupCommitter } from '../../src/sources/kafka/group-commit.js';
import { normalizeBatch } from '../../src/validate.js';

let db: PGliteDb;
let txs = 0;
beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [signalsMigrations]);
  const inner = db.tx.bind(db);
  db.tx = <T>(fn: (tx: Queryable) => Promise<T>) => {
    txs++;
    return inner(fn);
  };
});
afterAll(async () => {
  await db?.close();
});

const chunk = (p: number, n: number) => normalizeBatch(Array.from({ length: n }, (_, i) => ({ name: 'gc/sig', params: { p, i }, request_id: `gc:${p}:${i}` })));

it('stores chunks that arrive during a transaction together in the next one, each with its own results', async () => {
  const gc = new GroupCommitter(db, 100);
  txs = 0;
  const results = await Promise.all([gc.publish(chunk(0, 10), { type: 'KAFKA', partition: 0 }), gc.publish(chunk(1, 30), { type: 'KAFKA', partition: 1 }), gc.publish(chunk(2, 30), { type: 'KAFKA', partition: 2 }), gc.publish(chunk(3, 50), { type: 'KAFKA', partition: 3 })]);
  expect(results.map((r) => r.length)).toEqual([10, 30, 30, 50]);
  // The first goes alone; the next two fit together (60 ≤ 100); the fourth would exceed the cap.
  expect(txs).toBe(3);
  expect(results[1]![0]).toMatchObject({ instance_id: 'gc:1:0', duplicate: false });
  const src = await db.query<{ source: { partition: number }; n: number }>(`SELECT source, count(*)::int AS n FROM signal_instances GROUP BY source ORDER BY n`);
  expect(src.rows.map((r) => [r.source.partition, r.n])).toEqual([[0, 10], [1, 30], [2, 30], [3, 50]]);
  const again = await gc.publish(chunk(1, 3), { type: 'KAFKA' });
  expect(again.every((r) => r.duplicate)).toBe(true);
});

it('fails every chunk of a failed transaction, and keeps working afterwards', async () => {
  const gc = new GroupCommitter(db, 1000);
  // A request time the database cannot cast makes the insert, and so the transaction, fail.
  const broken = chunk(7, 2);
  broken[1]!.requestTime = 'not a number' as never;
  const first = gc.publish(chunk(9, 1), { type: 'KAFKA' });
  const both = Promise.allSettled([gc.publish(broken, { type: 'KAFKA' }), gc.publish(chunk(8, 2), { type: 'KAFKA' })]);
  await first;
  const settled = await both;
  expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
  expect((await gc.publish(chunk(8, 2), { type: 'KAFKA' })).every((r) => !r.duplicate)).toBe(true);
});
