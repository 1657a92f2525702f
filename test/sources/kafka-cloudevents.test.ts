import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { migrate, PgDb } from '@baton/engine-core';
import { signalsMigrations } from '@baton/signals';
import { createTestDatabase, requireKafka, type Database } from '../setup/infra.js';
import { validateSourcesConfig } from '../../packages/signals/src/sources/config.js';
import { DLQ_HEADERS, KafkaIngestor } from '../../packages/signals/src/sources/kafka/ingest.js';
import { KafkajsAdapter } from '../../packages/signals/src/sources/kafka/kafkajs-adapter.js';

const run = Date.now().toString(36);
const topic = `baton-ce-${run}`;
const dlq = `baton-ce-dlq-${run}`;
let database: Database;
let db: PgDb;
let kafka: Kafka;

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PgDb({ connectionString: database.url, max: 4 });
  await migrate(db, [signalsMigrations]);
  kafka = new Kafka({ clientId: 'baton-ce-test', brokers: requireKafka().brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }, { topic: dlq }], waitForLeaders: true });
  await admin.disconnect();
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

it('indexes binary- and structured-mode CloudEvents from Kafka, dedupes on source+id, dead-letters invalid events', async () => {
  const errors: { field: string; message: string }[] = [];
  const config = validateSourcesConfig(
    { kafka: { brokers: requireKafka().brokers, groupId: `ce-${run}`, deadLetterTopic: dlq, subscriptions: [{ topic, format: 'cloudevents' }] } },
    errors,
  );
  expect(errors).toEqual([]);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const binary = (id: string, data: object, extra: Record<string, string> = {}) => ({
    key: id,
    value: JSON.stringify(data),
    headers: { ce_specversion: '1.0', ce_id: id, ce_source: '//billing', ce_type: 'invoices/paid', 'content-type': 'application/json', ...extra },
  });
  await producer.send({
    topic,
    messages: [
      binary('inv-1', { invoice: 'I-1', cents: 1250 }),
      binary('inv-2', { invoice: 'I-2', cents: 99 }, { ce_subject: 'customer-7' }),
      // A redelivered event (same source and id) is stored once.
      binary('inv-1', { invoice: 'I-1', cents: 1250 }),
      { key: 's-1', value: JSON.stringify({ specversion: '1.0', id: 's-1', source: '//shop', type: 'orders/placed', data: { order: 'O-1' } }), headers: { 'content-type': 'application/cloudevents+json' } },
      binary('bad-1', { invoice: 'I-3' }, { ce_specversion: '0.3' }),
      { key: 'bad-2', value: '{"specversion": "1.0", "id": "x"}' },
    ],
  });
  await producer.disconnect();

  const ingestor = new KafkaIngestor({ db, adapter: new KafkajsAdapter({ brokers: requireKafka().brokers, logLevel: logLevel.NOTHING }), config: config.kafka! });
  await ingestor.start();
  const deadline = Date.now() + 60_000;
  while (ingestor.stats().indexed + ingestor.stats().duplicates + ingestor.stats().deadLettered < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await ingestor.stop();
  expect(ingestor.stats()).toMatchObject({ indexed: 3, duplicates: 1, deadLettered: 2 });

  const rows = await db.query<{ name: string; request_id: string; params: Record<string, unknown>; payload: { cloudevent: Record<string, string> } }>(
    'SELECT name, request_id, params, payload FROM signal_instances ORDER BY name, request_id',
  );
  expect(rows.rows.map((r) => [r.name, r.request_id, r.params])).toEqual([
    ['invoices/paid', 'ce:9://billing:inv-1', { invoice: 'I-1', cents: 1250 }],
    ['invoices/paid', 'ce:9://billing:inv-2', { invoice: 'I-2', cents: 99 }],
    ['orders/placed', 'ce:6://shop:s-1', { order: 'O-1' }],
  ]);
  expect(rows.rows[1]!.payload.cloudevent).toMatchObject({ id: 'inv-2', subject: 'customer-7' });
  const src = await db.query<{ source: Record<string, unknown> }>(`SELECT source FROM signal_instances WHERE request_id = 'ce:6://shop:s-1'`);
  expect(src.rows[0]!.source).toEqual({ type: 'KAFKA', topic, partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/), group: `ce-${run}` });

  const reasons: string[] = [];
  const consumer = kafka.consumer({ groupId: `ce-dlq-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topic: dlq, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        reasons.push(message.headers![DLQ_HEADERS.reason]!.toString());
        if (reasons.length === 2) resolve();
      },
    });
  });
  await consumer.disconnect();
  expect(reasons.sort()).toEqual(['headers.specversion: only CloudEvents 1.0 is supported (got "0.3")', 'value: CloudEvent is missing required attributes source, type']);
}, 120_000);
