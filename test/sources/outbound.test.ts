import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfirmSubscriptionCommand, CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { Kafka, logLevel } from 'kafkajs';
import { migrate, PgDb } from '@baton/engine-core';
import { signalsMigrations } from '@baton/signals';
import { createTestDatabase, requireKafka, requireSns, type Database } from '../setup/infra.js';
import type { SinkConfig } from '../../packages/signals/src/sources/config.js';
import { KafkajsAdapter } from '../../packages/signals/src/sources/kafka/kafkajs-adapter.js';
import type { OutboundEvent } from '../../packages/signals/src/sinks/events.js';
import { OutboundPublisher } from '../../packages/signals/src/sinks/publisher.js';
import { EVENT_ID_HEADER } from '../../packages/signals/src/sinks/transports.js';

const run = Date.now().toString(36);
const topic = `baton-outbound-${run}`;
let database: Database;
let db: PgDb;
let kafka: Kafka;
let sns: SNSClient;
let server: Server;
let topicArn: string;
const snsIds: string[] = [];
const kafkaIds: string[] = [];
const publishers: OutboundPublisher[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PgDb({ connectionString: database.url, max: 6 });
  await migrate(db, [signalsMigrations]);
  kafka = new Kafka({ clientId: 'baton-outbound-test', brokers: requireKafka().brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();

  const { endpoint, region, credentials } = requireSns();
  sns = new SNSClient({ endpoint, region, credentials });
  server = createServer((req, res) => {
    void readBody(req).then(async (raw) => {
      const body = JSON.parse(raw) as Record<string, string>;
      if (body.Type === 'SubscriptionConfirmation') await sns.send(new ConfirmSubscriptionCommand({ TopicArn: body.TopicArn, Token: body.Token }));
      if (body.Type === 'Notification') snsIds.push((JSON.parse(body.Message!) as { id: string }).id);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ({ TopicArn: topicArn } = (await sns.send(new CreateTopicCommand({ Name: `baton-outbound-${run}` }))) as { TopicArn: string });
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events` }));
});

afterAll(async () => {
  await Promise.allSettled(publishers.map((p) => p.stop()));
  sns?.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await db?.close();
  await database?.drop();
});

it('delivers every event to Kafka and to an SNS-subscribed endpoint (once per event id), while a dead sink only grows its backlog', async () => {
  const { endpoint, region, credentials } = requireSns();
  const sinks: SinkConfig[] = [
    { name: 'kafka', type: 'kafka', topic, brokers: requireKafka().brokers, events: ['signal', 'workflow', 'step'] },
    { name: 'sns', type: 'sns', topicArn, endpoint, region, events: ['signal', 'workflow', 'step'] },
    { name: 'dead', type: 'sns', topicArn, endpoint: 'http://127.0.0.1:9', region, events: ['signal'] },
  ];
  // Two publishers on one database stand for two Baton processes sharing the outbox.
  for (let i = 0; i < 2; i++) {
    const p = new OutboundPublisher(db, {
      sinks,
      outbox: { pollMs: 50, batchSize: 50, minBackoffMs: 200, maxBackoffMs: 1000 },
      transportDeps: {
        kafka: (brokers) => new KafkajsAdapter({ brokers, clientId: `outbound-${i}`, logLevel: logLevel.NOTHING }),
        sns: (s) => new SNSClient({ endpoint: s.endpoint, region: s.region, credentials, maxAttempts: 1 }),
      },
    });
    publishers.push(p);
    await p.start();
  }

  const events: OutboundEvent[] = [];
  for (let i = 0; i < 120; i++) events.push({ kind: 'signal', name: `orders/${i % 7}`, seq_id: i + 1, instance_id: `inst-${i}`, params: { i } });
  for (let i = 0; i < 40; i++) events.push({ kind: 'workflow', workflowId: 'etl', workflowInstanceId: i, status: i % 2 ? 'SUCCEEDED' : 'RUNNING' });
  for (let i = 0; i < 40; i++) events.push({ kind: 'step', workflowId: 'etl', workflowInstanceId: i, stepId: 'load', attempt: 1, status: 'SUCCEEDED' });
  const expected = new Set<string>();
  // Each event is enqueued twice in separate transactions (a retried change): same id both times.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < events.length; i += 20) {
      const ids = await db.tx((tx) => publishers[0]!.enqueueOutbound(tx, events.slice(i, i + 20)));
      ids.forEach((id) => expected.add(id));
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(expected.size).toBe(events.length);

  const consumer = kafka.consumer({ groupId: `outbound-reader-${run}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      kafkaIds.push(message.headers![EVENT_ID_HEADER]!.toString());
      expect(JSON.parse(message.value!.toString()).id).toBe(message.headers![EVENT_ID_HEADER]!.toString());
    },
  });
  const deadline = Date.now() + 60_000;
  while ((new Set(kafkaIds).size < expected.size || new Set(snsIds).size < expected.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await consumer.disconnect();

  expect(new Set(kafkaIds)).toEqual(expected);
  expect(new Set(snsIds)).toEqual(expected);
  // At least once: a redelivered event is recognisable by its id, so deduplication leaves one each.
  expect(kafkaIds.length).toBeGreaterThanOrEqual(expected.size);
  expect(snsIds.length).toBeGreaterThanOrEqual(expected.size);

  const backlog = await publishers[0]!.backlog();
  expect(backlog.find((b) => b.sink === 'kafka')).toEqual({ sink: 'kafka', count: 0, oldestAgeMs: 0 });
  expect(backlog.find((b) => b.sink === 'sns')).toEqual({ sink: 'sns', count: 0, oldestAgeMs: 0 });
  const dead = backlog.find((b) => b.sink === 'dead')!;
  expect(dead.count).toBe(120);
  expect(dead.oldestAgeMs).toBeGreaterThan(500);
  const err = await db.query<{ last_error: string | null; attempts: number }>(`SELECT last_error, attempts FROM signal_outbox WHERE sink = 'dead' ORDER BY attempts DESC LIMIT 1`);
  expect(err.rows[0]!.attempts).toBeGreaterThanOrEqual(1);
  expect(err.rows[0]!.last_error).toBeTruthy();
}, 120_000);
