import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate, PGliteDb } from '@baton/engine-core';
import { signalsMigrations } from '../../src/migrations.js';
import type { SinkConfig } from '../../src/sources/config.js';
import { outboundEventId, signalEventsOf, type OutboundEvent } from '../../src/sinks/events.js';
import { claimOutbox, completeOutbox, outboxBacklog } from '../../src/sinks/outbox.js';
import { OutboundPublisher } from '../../src/sinks/publisher.js';
import type { OutboundTransport } from '../../src/sinks/transports.js';
import type { OutboxRecord } from '../../src/sinks/outbox.js';

/** A transport that records what it was given and fails on demand (all, or some event ids). */
class RecordingTransport implements OutboundTransport {
  sent: OutboxRecord[] = [];
  failAll: string | undefined;
  failIds = new Set<string>();
  async send(records: readonly OutboxRecord[]): Promise<Map<string, string>> {
    if (this.failAll) throw new Error(this.failAll);
    const failed = new Map<string, string>();
    for (const r of records) {
      if (this.failIds.has(r.eventId)) failed.set(String(r.id), 'refused by test');
      else this.sent.push(r);
    }
    return failed;
  }
  async close(): Promise<void> {}
}

const sinks: SinkConfig[] = [
  { name: 'all', type: 'kafka', topic: 'events', brokers: ['unused:1'], events: ['signal', 'workflow', 'step'] },
  { name: 'orders-only', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:orders', events: ['signal'], signalPrefixes: ['orders/'] },
];
let db: PGliteDb;
let all: RecordingTransport;
let orders: RecordingTransport;
let pub: OutboundPublisher;

const sig = (name: string, seq: number): OutboundEvent => ({ kind: 'signal', name, seq_id: seq, instance_id: `i-${name}-${seq}`, params: { n: seq, big: 9007199254740993n } });
const wf = (status: string, sequence?: number): OutboundEvent => ({ kind: 'workflow', workflowId: 'etl', workflowInstanceId: 7, status, sequence });

beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [signalsMigrations]);
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  await db.query('DELETE FROM signal_outbox');
  all = new RecordingTransport();
  orders = new RecordingTransport();
  // Backoffs and leases far longer than a test: rows become due, and leases lapse, when a test
  // moves their times back (`due`, `lapse`), never by how long the machine took between two lines.
  pub = new OutboundPublisher(db, { sinks, transports: new Map([['all', all], ['orders-only', orders]]), outbox: { minBackoffMs: 60_000, maxBackoffMs: 120_000, leaseMs: 60_000 } });
});

/** Makes every backed-off row due now. */
const due = () => db.query(`UPDATE signal_outbox SET available_at = now()`);
/** Makes every lease lapse now. */
const lapse = () => db.query(`UPDATE signal_outbox SET lease_until = now() - interval '1 millisecond' WHERE lease_until IS NOT NULL`);

async function rows(): Promise<{ sink: string; event_id: string; attempts: number; last_error: string | null }[]> {
  return (await db.query<{ sink: string; event_id: string; attempts: number; last_error: string | null }>('SELECT sink, event_id, attempts, last_error FROM signal_outbox ORDER BY id')).rows;
}

describe('outbound outbox', () => {
  it('writes events only when the transaction commits, once per interested sink, with stable ids', async () => {
    await db.tx(async (tx) => {
      await pub.enqueueOutbound(tx, [sig('orders/new', 1)]);
      throw new Error('rolled back');
    }).catch(() => {});
    expect(await rows()).toEqual([]);

    const ids = await db.tx((tx) => pub.enqueueOutbound(tx, [sig('orders/new', 1), sig('audit/x', 1), wf('RUNNING'), { kind: 'step', workflowId: 'etl', workflowInstanceId: 7, stepId: 's1', attempt: 1, status: 'SUCCEEDED' }]));
    // The same source events again (a retried transaction, a second process): nothing new.
    const again = await db.tx((tx) => pub.enqueueOutbound(tx, [sig('orders/new', 1), wf('RUNNING')]));
    expect(again).toEqual([ids[0], ids[2]]);
    expect(outboundEventId(wf('RUNNING'))).toBe(ids[2]);
    expect(outboundEventId(wf('RUNNING', 2))).not.toBe(ids[2]);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await rows()).map((r) => `${r.sink}:${r.event_id}`)).toEqual([`all:${ids[0]}`, `orders-only:${ids[0]}`, `all:${ids[1]}`, `all:${ids[2]}`, `all:${ids[3]}`]);

    expect(await pub.runOnce()).toBe(5);
    expect(await rows()).toEqual([]);
    const ce = JSON.parse(orders.sent[0]!.body.replace('9007199254740993', '"9007199254740993"'));
    expect(ce).toMatchObject({ specversion: '1.0', id: ids[0], source: 'urn:baton', type: 'baton.signal.published', subject: 'orders/new/1', data: { name: 'orders/new', params: { n: 1, big: '9007199254740993' } } });
    expect(orders.sent[0]!.body).toContain('"big":9007199254740993');
    expect(all.sent.map((r) => r.eventType)).toEqual(['baton.signal.published', 'baton.signal.published', 'baton.workflow.status_changed', 'baton.step.status_changed']);
    expect(pub.stats()).toEqual({ all: { delivered: 4, failed: 0 }, 'orders-only': { delivered: 1, failed: 0 } });
  });

  it('keeps a failing sink’s events with backoff while the other sink delivers, and reports the backlog', async () => {
    orders.failAll = 'SNS is down';
    await db.tx((tx) => pub.enqueueOutbound(tx, [sig('orders/a', 1), sig('orders/a', 2)]));
    expect(await pub.runOnce()).toBe(2);
    expect(all.sent).toHaveLength(2);
    const left = await rows();
    expect(left.map((r) => [r.sink, r.attempts, r.last_error])).toEqual([
      ['orders-only', 1, 'SNS is down'],
      ['orders-only', 1, 'SNS is down'],
    ]);
    // Backing off: an immediate round does not touch them; they are due about one backoff ahead.
    expect(await pub.runOnce()).toBe(0);
    expect((await rows())[0]!.attempts).toBe(1);
    const ahead = (await db.query<{ s: number }>(`SELECT min(extract(epoch FROM available_at - now()))::float8 AS s FROM signal_outbox`)).rows[0]!.s;
    expect(ahead).toBeGreaterThan(50);
    expect(ahead).toBeLessThanOrEqual(60);
    const backlog = await pub.backlog();
    expect(backlog.find((b) => b.sink === 'all')).toEqual({ sink: 'all', count: 0, oldestAgeMs: 0 });
    expect(backlog.find((b) => b.sink === 'orders-only')).toMatchObject({ count: 2 });

    orders.failAll = undefined;
    await due();
    expect(await pub.runOnce()).toBe(2);
    expect(orders.sent.map((r) => r.attempts)).toEqual([2, 2]);
    expect(await rows()).toEqual([]);
  });

  it('turns a publish into events for the new instances only', () => {
    const events = signalEventsOf(
      [
        { name: 'orders/a', seq_id: 3, instance_id: 'x', duplicate: false },
        { name: 'orders/a', seq_id: 2, instance_id: 'y', duplicate: true },
      ],
      [{ params: { k: 1 }, payload: { p: true } }, { params: { k: 2 } }],
    );
    expect(events).toEqual([{ kind: 'signal', name: 'orders/a', seq_id: 3, instance_id: 'x', params: { k: 1 }, payload: { p: true } }]);
    expect(outboundEventId(events[0]!)).toBe(outboundEventId({ kind: 'signal', name: 'orders/a', seq_id: 99, instance_id: 'x', params: {} }));
  });

  it('retries only the events a sink refused', async () => {
    const ids = await db.tx((tx) => pub.enqueueOutbound(tx, [wf('RUNNING'), wf('SUCCEEDED')]));
    all.failIds.add(ids[1]!);
    expect(await pub.runOnce()).toBe(1);
    expect((await rows()).map((r) => [r.event_id, r.last_error])).toEqual([[ids[1], 'refused by test']]);
  });

  it('gives a dead worker’s leased rows to another after the lease, and fences the late one', async () => {
    const [id] = await db.tx((tx) => pub.enqueueOutbound(tx, wf('FAILED')));
    const claimed = await claimOutbox(db, 'all', 'dead-worker', 10, 60_000);
    expect(claimed.map((r) => r.eventId)).toEqual([id]);
    expect(await pub.runOnce()).toBe(0);
    await lapse();
    const mine = await claimOutbox(db, 'all', 'second-worker', 10, 10_000);
    expect(mine.map((r) => [r.eventId, r.attempts])).toEqual([[id, 2]]);
    await completeOutbox(db, 'dead-worker', claimed.map((r) => r.id));
    expect(await rows()).toHaveLength(1);
    await completeOutbox(db, 'second-worker', mine.map((r) => r.id));
    expect(await outboxBacklog(db, ['all'])).toEqual([{ sink: 'all', count: 0, oldestAgeMs: 0 }]);
  });

  it('delivers in the background once started, and stops cleanly', async () => {
    const bg = new OutboundPublisher(db, { sinks, transports: new Map([['all', all], ['orders-only', orders]]), outbox: { pollMs: 20 } });
    await bg.start();
    await db.tx((tx) => bg.enqueueOutbound(tx, [sig('orders/bg', 1)]));
    const deadline = Date.now() + 5000;
    while ((all.sent.length < 1 || orders.sent.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await bg.stop();
    expect(all.sent).toHaveLength(1);
    expect(orders.sent).toHaveLength(1);
    expect(await rows()).toEqual([]);
  });
});
