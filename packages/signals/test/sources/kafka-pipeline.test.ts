/**
 * The ingestor's handling of one fetched batch of several chunks, on PostgreSQL and PGlite: chunk k+1 is
 * converted while chunk k is stored, yet offsets are committed in order, each only once its
 * chunk's rows are stored, and a partition's signals get seq ids in offset order even when a
 * transaction fails and is retried. The Kafka client is replaced by a driver that hands the batch
 * to the ingestor's handler and records its commits (the broker's part is covered by
 * test/sources/kafka-ingest.test.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KafkaSourceConfig } from '../../src/sources/config.js';
import type { ConsumerRunOptions, InboundMessage, KafkaAdapter } from '../../src/sources/kafka/adapter.js';
import { KafkaIngestor } from '../../src/sources/kafka/ingest.js';
import { IngestPressure } from '../../src/ingest-pressure.js';
import type { Db } from '@baton/engine-core';
import { openPgliteService, openTestDb, type TestDb } from '../helpers.js';

let t: TestDb;
let lite: Db;
beforeAll(async () => {
  t = await openTestDb(12);
  lite = (await openPgliteService()).db;
});
afterAll(async () => {
  await t?.close();
  await lite?.close();
});

const TOPIC = 'pipe';
const NAMES = ['pipe/a', 'pipe/b', 'pipe/c'];

function message(offset: number): InboundMessage {
  const value = JSON.stringify({ kind: NAMES[offset % NAMES.length], id: offset });
  return { topic: TOPIC, partition: 0, offset: String(offset), key: null, value: Buffer.from(value), headers: {}, timestamp: '0' };
}

const config: KafkaSourceConfig = {
  brokers: ['unused:9092'],
  clientId: 'pipe-test',
  groupId: 'pipe-group',
  deadLetterTopic: 'pipe-dlq',
  subscriptions: [{ topic: TOPIC, format: 'json', mapping: { name: { field: 'kind' }, params: { id: { field: 'id' } }, payload: 'message' }, cloudevents: { nameAttribute: 'type', params: 'data' }, dedupe: 'offset' }],
};

/** Hands one batch to the handler; each commit first checks that the committed messages are stored. */
function driver(messages: InboundMessage[], onCommit: (offset: string) => Promise<void>): { adapter: KafkaAdapter; done: Promise<void> } {
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const adapter: KafkaAdapter = {
    producer: () => ({ connect: async () => {}, send: async () => {}, disconnect: async () => {} }),
    consumer: () => ({
      start: async (opts: ConsumerRunOptions) => {
        void opts
          .handler({ topic: TOPIC, partition: 0, messages, isRunning: () => true, isStale: () => false, heartbeat: async () => {}, commit: onCommit })
          .then(finish, fail);
      },
      stop: async () => {},
      onCrash: () => {},
    }),
  };
  return { adapter, done };
}

it.each([
  ['PostgreSQL', () => t.db as Db],
  ['PGlite', () => lite],
])('commits each chunk in order once it is stored, and keeps seq ids in offset order across a failed transaction (%s)', async (_kind, getDb) => {
  const db = getDb();
  const n = 400;
  const messages = Array.from({ length: n }, (_, i) => message(i));
  const commits: { offset: number; stored: number }[] = [];
  const { adapter, done } = driver(messages, async (offset) => {
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_instance_keys WHERE instance_id LIKE 'kafka:pipe:0:%'`);
    commits.push({ offset: Number(offset), stored: r.rows[0]!.n });
  });
  let failed = 0;
  const pressure = new IngestPressure(0);
  const busy: boolean[] = [];
  const warnings: string[] = [];
  const ingestor = new KafkaIngestor({
    db,
    adapter,
    config,
    chunkSize: 40,
    lanes: 2,
    pressure,
    logger: { warn: (o) => warnings.push(String((o as { err?: Error }).err?.message)), error: (o) => warnings.push(String((o as { err?: Error }).err?.message)) },
    // The transaction holding offset 130 (the fourth chunk) fails once: that chunk is retried
    // while the fifth is already converted.
    onPublished: async (_tx, results) => {
      busy.push(pressure.busy);
      if (failed === 0 && results.some((r) => r.instance_id === 'kafka:pipe:0:130')) {
        failed++;
        throw new Error('injected failure');
      }
    },
  });
  await ingestor.start();
  await done;
  await ingestor.stop();

  expect(failed).toBe(1);
  expect(warnings).toEqual(['injected failure']);
  expect(busy.every(Boolean)).toBe(true);
  await new Promise((r) => setTimeout(r, 20));
  expect(pressure.busy).toBe(false);
  // One commit per chunk, in order, each after every message up to it was stored.
  expect(commits.map((c) => c.offset)).toEqual(Array.from({ length: 10 }, (_, k) => k * 40 + 39));
  for (const c of commits) expect(c.stored).toBeGreaterThanOrEqual(c.offset + 1);
  // A lane that committed before the other failed reports its share of the retried chunk as duplicates.
  const stats = ingestor.stats();
  expect(stats.indexed + stats.duplicates).toBe(n);
  expect(stats.commits).toBe(10);
  // Per name, seq ids follow the partition's offsets, gap-free.
  const rows = await db.query<{ name: string; seq_id: number; offset: string }>(`SELECT name, seq_id::int AS seq_id, source->>'offset' AS offset FROM signal_instances ORDER BY name, seq_id`);
  expect(rows.rows).toHaveLength(n);
  for (const name of NAMES) {
    const mine = rows.rows.filter((r) => r.name === name);
    expect(mine.map((r) => r.seq_id)).toEqual(mine.map((_, i) => i + 1));
    const offsets = mine.map((r) => Number(r.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  }
});
