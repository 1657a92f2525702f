import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalService } from '../src/service.js';
import { SignalValidationError } from '../src/errors.js';
import { publishInTx } from '../src/publish.js';
import { normalizeBatch } from '../src/validate.js';
import { openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';

let t: TestDb;
let svc: SignalService;

beforeAll(async () => {
  t = await openTestDb();
  svc = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions });
});
afterAll(async () => {
  await t?.close();
});

async function count(name: string): Promise<number> {
  const r = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_instances WHERE name = $1', [name]);
  return r.rows[0]!.n;
}

describe('publish', () => {
  it('stores each row exactly as given, whatever the document leaves out: sources, offsets, absent ids, payloads and times', async () => {
    const batch = normalizeBatch(
      [
        { name: 'doc/a', params: { k: 1 }, request_id: 'rid-1', request_time: 5 },
        { name: 'doc/a', params: { k: 2 }, payload_note: 'kept' },
        { name: 'doc/b', params: { k: 3 }, request_id: 'rid-3' },
        { name: 'doc/b', params: { k: 4 }, request_id: 'rid-4' },
        { name: 'doc/b', params: { k: 5 }, request_id: 'rid-5' },
        { name: 'doc/b', params: { k: 6 }, request_id: 'rid-6' },
        { name: 'doc/b', params: { k: 7 }, request_id: 'rid-7' },
        { name: 'doc/b', params: { k: 8 }, request_id: 'rid-8' },
        { name: 'doc/c', params: { k: 9 }, payload: null, request_id: 'rid-9' },
        { name: 'doc/c', params: { k: 10 }, request_id: 'rid-10' },
        { name: 'doc/c', params: { k: 11 }, request_id: 'rid-11' },
      ],
      'signals',
    );
    const shared = { type: 'REST' as const, client: 'c1' };
    const sources = [
      shared,
      shared,
      { type: 'KAFKA' as const, topic: 't', partition: 0, offset: '7', group: 'g' },
      { type: 'KAFKA' as const, topic: 't', partition: 1, offset: '7', group: 'g' },
      { type: 'KAFKA' as const, topic: 't', partition: 0, offset: '8', group: 'g', extra: { nested: true } },
      // A run of one partition, then one differing only by group, then one with a key fewer.
      { type: 'KAFKA' as const, topic: 't', partition: 1, offset: '8', group: 'g' },
      { type: 'KAFKA' as const, topic: 't', partition: 1, offset: '9', group: 'g2' },
      { type: 'KAFKA' as const, topic: 't', partition: 1, offset: '10' },
      // Offsets that are not strings stay in the source; so does any source's string offset.
      { type: 'INTERNAL' as const, offset: 12 },
      { type: 'INTERNAL' as const },
      { type: 'SNS' as const, offset: 'x' },
    ];
    await t.db.tx((tx) => publishInTx(tx, batch, sources));
    const rows = await t.db.query<{ name: string; request_id: string | null; instance_id: string; payload: unknown; request_time: number | null; source: unknown }>(
      `SELECT name, request_id, instance_id, payload, request_time, source FROM signal_instances WHERE name LIKE 'doc/%' ORDER BY name, seq_id`,
    );
    expect(rows.rows.map(({ instance_id, ...r }) => ({ ...r, same: instance_id === r.request_id }))).toEqual([
      { name: 'doc/a', request_id: 'rid-1', payload: null, request_time: 5, source: shared, same: true },
      { name: 'doc/a', request_id: null, payload: { payload_note: 'kept' }, request_time: null, source: shared, same: false },
      { name: 'doc/b', request_id: 'rid-3', payload: null, request_time: null, source: sources[2], same: true },
      { name: 'doc/b', request_id: 'rid-4', payload: null, request_time: null, source: sources[3], same: true },
      { name: 'doc/b', request_id: 'rid-5', payload: null, request_time: null, source: sources[4], same: true },
      { name: 'doc/b', request_id: 'rid-6', payload: null, request_time: null, source: sources[5], same: true },
      { name: 'doc/b', request_id: 'rid-7', payload: null, request_time: null, source: sources[6], same: true },
      { name: 'doc/b', request_id: 'rid-8', payload: null, request_time: null, source: sources[7], same: true },
      { name: 'doc/c', request_id: 'rid-9', payload: null, request_time: null, source: sources[8], same: true },
      { name: 'doc/c', request_id: 'rid-10', payload: null, request_time: null, source: sources[9], same: true },
      { name: 'doc/c', request_id: 'rid-11', payload: null, request_time: null, source: sources[10], same: true },
    ]);
  });

  it('assigns per-name seq ids, puts unknown fields into payload and stores unmatched signals', async () => {
    const res = await svc.publish([
      { name: 'signal_a', params: { foo: 'bat', watermark: 123456, updated_by: 'tester' }, extra: { source: { id: 'test-id' } }, request_id: 'test-request-id', request_time: 1234567 },
      { name: 'db/prod/orders', params: { day: 20240101 } },
      { name: 'db/prod/orders', params: { day: 20240102 } },
    ]);
    expect(res).toEqual([
      { name: 'signal_a', seq_id: 1, instance_id: 'test-request-id', duplicate: false },
      { name: 'db/prod/orders', seq_id: 1, instance_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), duplicate: false },
      { name: 'db/prod/orders', seq_id: 2, instance_id: expect.any(String), duplicate: false },
    ]);
    const a = await svc.getInstance('signal_a', 'latest');
    expect(a).toMatchObject({ name: 'signal_a', seq_id: 1, params: { foo: 'bat', watermark: 123456, updated_by: 'tester' }, payload: { extra: { source: { id: 'test-id' } } }, request_id: 'test-request-id', request_time: 1234567 });
    expect(typeof a.create_time).toBe('number');
    expect((await svc.getInstance('db/prod/orders', 2)).params).toEqual({ day: 20240102 });
  });

  it('dedupes by request id, else by name and canonical params, returning the first instance', async () => {
    const first = await svc.publish([{ name: 'dedupe/x', params: { a: 'x', b: 1 } }]);
    const again = await svc.publish([
      { name: 'dedupe/x', params: { b: 1, a: 'x' } },
      { name: 'dedupe/x', params: { a: 'x', b: '1' } },
      { name: 'dedupe/x', params: { a: 'x', b: '1' } },
    ]);
    expect(again[0]).toEqual({ ...first[0], duplicate: true });
    expect(again[1]).toMatchObject({ seq_id: 2, duplicate: false });
    expect(again[2]).toMatchObject({ seq_id: 2, duplicate: true });
    const byReq = await svc.publish([{ name: 'dedupe/x', params: { a: 'other' }, request_id: 'r-1' }]);
    const byReq2 = await svc.publish([{ name: 'dedupe/x', params: { a: 'different' }, request_id: 'r-1' }]);
    expect(byReq2[0]).toEqual({ ...byReq[0], duplicate: true });
    expect(await count('dedupe/x')).toBe(3);
  });

  it('keeps 64-bit integers exact', async () => {
    const big = 9007199254740993n;
    const max = 9223372036854775807n;
    await svc.publish([{ name: 'big', params: { big, max, min: -9223372036854775808n, small: 5 } }]);
    const inst = await svc.getInstance('big', 'latest');
    expect(inst.params).toEqual({ big, max, min: -9223372036854775808n, small: 5 });
    const page = await svc.listInstances('big', { params: { big } });
    expect(page.instances).toHaveLength(1);
    expect((await svc.listInstances('big', { params: { big: 9007199254740992 } })).instances).toHaveLength(0);
  });

  it('gives gap-free seq ids to concurrent publishers of one name', async () => {
    const batches = Array.from({ length: 16 }, (_, b) =>
      svc.publish(Array.from({ length: 25 }, (_, i) => ({ name: 'concurrent/one', params: { b, i, dup: i % 5 === 0 ? 'same' : `${b}` } }))),
    );
    await Promise.all(batches);
    const seqs = await t.db.query<{ seq_id: number }>(`SELECT seq_id FROM signal_instances WHERE name = 'concurrent/one' ORDER BY seq_id`);
    expect(seqs.rows.map((r) => r.seq_id)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const counter = await t.db.query<{ last_seq: number }>(`SELECT last_seq FROM signal_names WHERE name = 'concurrent/one'`);
    expect(counter.rows[0]!.last_seq).toBe(400);
  });

  it('gives concurrent duplicates one instance and no gap', async () => {
    const same = { name: 'concurrent/dup', params: { k: 'v' } };
    const res = await Promise.all(Array.from({ length: 10 }, () => svc.publish([same, { name: 'concurrent/dup', params: { k: 'w' } }])));
    expect(res.flat().filter((r) => !r.duplicate)).toHaveLength(2);
    expect(new Set(res.flat().map((r) => r.seq_id))).toEqual(new Set([1, 2]));
  });
});

describe('concurrent transactions', () => {
  it('retries a batch that lost a race on a duplicate, keeping seq ids gap-free', async () => {
    const batch = normalizeBatch([
      { name: 'race/x', params: { k: 'same' } },
      { name: 'race/x', params: { k: 'mine' } },
    ]);
    // Separate transactions on separate connections: no group commit between them.
    const res = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.db.tx((tx) => publishInTx(tx, i % 2 === 0 ? batch : normalizeBatch([{ name: 'race/x', params: { k: 'same' } }, { name: 'race/x', params: { k: `own-${i}` } }]), { type: 'INTERNAL' })),
      ),
    );
    const stored = res.flat().filter((r) => !r.duplicate);
    expect(new Set(res.flat().filter((r) => r.instance_id === batch[0]!.instanceId).map((r) => r.seq_id)).size).toBe(1);
    const seqs = await t.db.query<{ seq_id: number }>(`SELECT seq_id FROM signal_instances WHERE name = 'race/x' ORDER BY seq_id`);
    expect(seqs.rows.map((r) => r.seq_id)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    expect(stored).toHaveLength(1 + 1 + 4);
  });
});

describe('validation', () => {
  const cases: [unknown, string][] = [
    [{ params: {} }, 'signals[0].name: is required'],
    [{ name: '' }, 'signals[0].name: must not be empty'],
    [{ name: 'a//b' }, 'signals[0].name: must not have empty path segments'],
    [{ name: '/a' }, 'signals[0].name: must not have empty path segments'],
    [{ name: 'a\nb' }, 'signals[0].name: must not contain control characters'],
    [{ name: 'x'.repeat(513) }, 'signals[0].name: must be at most 512 characters'],
    [{ name: 7 }, 'signals[0].name: must be a string'],
    [{ name: 'ok', params: { watermark: 1.5 } }, 'signals[0].params.watermark: must be a string or an integer'],
    [{ name: 'ok', params: { flag: true } }, 'signals[0].params.flag: must be a string or an integer'],
    [{ name: 'ok', params: { o: { a: 1 } } }, 'signals[0].params.o: must be a string or an integer'],
    [{ name: 'ok', params: { huge: 2n ** 63n } }, 'signals[0].params.huge: integer is outside the 64-bit range'],
    [{ name: 'ok', params: [1] }, 'signals[0].params: must be an object'],
    [{ name: 'ok', request_id: 5 }, 'signals[0].request_id: must be a non-empty string'],
    [{ name: 'ok', request_time: 'now' }, 'signals[0].request_time: must be an integer'],
    [{ name: 'ok', payload: 3, extra: 1 }, 'signals[0].payload: must be an object when the request also carries other fields (extra)'],
    ['text', 'signals[0]: must be an object'],
  ];
  it.each(cases.map(([signal, message]) => ({ signal, message })))('rejects with "$message"', async ({ signal, message }) => {
    const err = await svc.publish([signal]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignalValidationError);
    expect((err as Error).message).toContain(message);
  });

  it('rejects a whole batch with one bad signal and names its index; stores nothing', async () => {
    const batch = [0, 1, 2, 3].map((i) => ({ name: 'batch/bad', params: { watermark: i === 3 ? 1.25 : i } }));
    const err = (await svc.publish(batch).catch((e: unknown) => e)) as SignalValidationError;
    expect(err.errors).toEqual([{ field: 'signals[3].params.watermark', message: 'must be a string or an integer' }]);
    expect(await count('batch/bad')).toBe(0);
  });

  it('rejects an empty or oversized batch', async () => {
    await expect(svc.publish([])).rejects.toThrow('signals: must hold at least one signal');
    const big = Array.from({ length: 1001 }, (_, i) => ({ name: 'batch/big', params: { i } }));
    await expect(svc.publish(big)).rejects.toThrow('signals: must hold at most 1000 signals (got 1001)');
    expect(await count('batch/big')).toBe(0);
  });
});

describe('queries', () => {
  it('lists by name with param filters, a time range and a cursor', async () => {
    const signals = Array.from({ length: 25 }, (_, i) => ({ name: 'list/me', params: { parity: i % 2 === 0 ? 'even' : 'odd', i } }));
    await svc.publish(signals);
    const p1 = await svc.listInstances('list/me', { params: { parity: 'even' }, limit: 5 });
    expect(p1.instances.map((i) => i.params.i)).toEqual([24, 22, 20, 18, 16]);
    const p2 = await svc.listInstances('list/me', { params: { parity: 'even' }, limit: 5, cursor: p1.next_cursor });
    expect(p2.instances.map((i) => i.params.i)).toEqual([14, 12, 10, 8, 6]);
    const p3 = await svc.listInstances('list/me', { params: { parity: 'even' }, limit: 5, cursor: p2.next_cursor });
    expect(p3.instances.map((i) => i.params.i)).toEqual([4, 2, 0]);
    expect(p3.next_cursor).toBeUndefined();
    expect((await svc.listInstances('list/me', { from: new Date(Date.now() + 60_000) })).instances).toHaveLength(0);
    expect((await svc.listInstances('list/me', { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), limit: 1000 })).instances).toHaveLength(25);
    await expect(svc.listInstances('list/me', { cursor: 'abc' })).rejects.toThrow('cursor: is not a cursor');
  });

  it('reports unknown instances', async () => {
    await expect(svc.getInstance('nothing/here', 'latest')).rejects.toThrow('signal nothing/here has no instances');
    await expect(svc.getInstance('list/me', 999)).rejects.toThrow('has no instance with seq_id 999');
    await expect(svc.getInstance('list/me', 9999999999999999999n)).rejects.toThrow('has no instance with seq_id 9999999999999999999');
    await expect(svc.listInstances('list/me', { cursor: '9999999999999999999' })).rejects.toThrow('cursor: is not a cursor');
  });
});
