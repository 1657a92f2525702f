import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { migrate, PgDb } from '@baton/engine-core';
import { signalsMigrations } from '@baton/signals';
import { createTestDatabase, requireKafka, type Database } from '../setup/infra.js';
import type { KafkaSourceConfig } from '../../packages/signals/src/sources/config.js';
import { DLQ_HEADERS } from '../../packages/signals/src/sources/kafka/ingest.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = Date.now().toString(36);
const topic = `baton-ingest-${run}`;
const dlq = `baton-ingest-dlq-${run}`;
const groupId = `baton-ingest-group-${run}`;
const PARTITIONS = 4;
const TOTAL = 20_000;

let database: Database;
let db: PgDb;
let kafka: Kafka;
let admin: Admin;
const children: ChildProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PgDb({ connectionString: database.url, max: 4 });
  await migrate(db, [signalsMigrations]);
  kafka = new Kafka({ clientId: 'baton-ingest-test', brokers: requireKafka().brokers, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }, { topic: dlq, numPartitions: 1 }], waitForLeaders: true });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await admin?.disconnect();
  await db?.close();
  await database?.drop();
});

interface Planned {
  id: string;
  value: string;
  /** Why the consumer must dead-letter it; undefined for a valid message. */
  poison?: 'not-json' | 'missing-field';
}

/**
 * 20,000 messages: 1% malformed (half not JSON, half missing the mapped `id` field), 10% exact
 * repeats of earlier valid messages (same dedupe header), the rest distinct valid orders.
 */
function plan(): { messages: Planned[]; validIds: Set<string>; poisonIds: Map<string, Planned['poison']> } {
  const messages: Planned[] = [];
  const validIds = new Set<string>();
  const poisonIds = new Map<string, Planned['poison']>();
  const byId = new Map<string, Planned>();
  let next = 0;
  for (let i = 0; i < TOTAL; i++) {
    if (i % 100 === 50) {
      const id = `bad-${i}`;
      const poison = i % 200 === 50 ? 'not-json' : 'missing-field';
      messages.push({ id, poison, value: poison === 'not-json' ? `{"kind": "orders/created", "id": ${i},` : JSON.stringify({ kind: 'orders/created', amount: i }) });
      poisonIds.set(id, poison);
    } else if (i % 10 === 7 && next > 0) {
      const again = byId.get(`ord-${(i * 7919) % next}`)!;
      messages.push({ ...again });
    } else {
      const id = `ord-${next}`;
      const m: Planned = { id, value: JSON.stringify({ kind: 'orders/created', id: 1_000_000_000_000 + next, amount: next % 977, note: 'x'.repeat(next % 40) }) };
      messages.push(m);
      byId.set(id, m);
      validIds.add(id);
      next++;
    }
  }
  return { messages, validIds, poisonIds };
}

function startWorker(): Promise<ChildProcess> {
  const config: KafkaSourceConfig = {
    brokers: requireKafka().brokers,
    clientId: 'baton-ingest',
    groupId,
    deadLetterTopic: dlq,
    subscriptions: [
      {
        topic,
        format: 'json',
        mapping: { name: { field: 'kind' }, params: { order_id: { field: 'id' }, region: { header: 'region' } }, payload: 'message' },
        cloudevents: { nameAttribute: 'type', params: 'data' },
        dedupe: { header: 'msg-id' },
      },
    ],
  };
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'kafka-ingest-worker.ts'), database.url, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(proc);
    });
    proc.on('exit', (code, sig) => reject(new Error(`worker exited (${code ?? sig}) before ready: ${err}`)));
  });
}

async function indexed(): Promise<number> {
  const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_instances WHERE name = 'orders/created'`);
  return r.rows[0]!.n;
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

it('indexes every valid message exactly once and dead-letters every malformed one, across 3 SIGKILLs and a member joining and leaving', async () => {
  const { messages, validIds, poisonIds } = plan();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const waves = 4;
  const per = Math.ceil(messages.length / waves);
  const send = async (wave: number): Promise<void> => {
    const slice = messages.slice(wave * per, (wave + 1) * per);
    for (let i = 0; i < slice.length; i += 1000) {
      await producer.send({
        topic,
        acks: -1,
        messages: slice.slice(i, i + 1000).map((m) => ({ key: m.id, value: m.value, headers: { 'msg-id': m.id, region: `r${m.id.length % 3}` } })),
      });
    }
  };

  // Each wave is produced while a consumer runs; the consumer is SIGKILLed mid-wave three times.
  // In the last wave a second process joins (a rebalance) and leaves cleanly mid-stream.
  let last: ChildProcess | undefined;
  for (let wave = 0; wave < waves; wave++) {
    const proc = await startWorker();
    const before = await indexed();
    if (wave === waves - 1) {
      const extra = await startWorker();
      await send(wave);
      await waitFor('progress with two members', async () => (await indexed()) > before + 500, 60_000, 10);
      extra.kill('SIGTERM');
      await exited(extra);
      expect(extra.exitCode).toBe(0);
      last = proc;
      break;
    }
    await send(wave);
    await waitFor('progress before the kill', async () => (await indexed()) > before + 500, 60_000, 10);
    proc.kill('SIGKILL');
    await exited(proc);
  }
  await producer.disconnect();

  await waitFor('every valid message indexed', async () => (await indexed()) >= validIds.size, 90_000, 200);
  // Offsets are committed after the transaction: wait until the group's commit reaches the end.
  const ends = await admin.fetchTopicOffsets(topic);
  await waitFor(
    'offsets committed to the end',
    async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.every((e) => committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
    },
    30_000,
    200,
  );
  last!.kill('SIGTERM');
  await exited(last!);
  expect(last!.exitCode).toBe(0);

  const rows = await db.query<{ request_id: string; params: string; n: number }>(
    `SELECT request_id, params::text AS params, count(*)::int AS n FROM signal_instances WHERE name = 'orders/created' GROUP BY request_id, params::text`,
  );
  expect(rows.rows.length).toBe(validIds.size);
  const stored = new Set(rows.rows.map((r) => r.request_id.replace(`kafka:${topic}:`, '')));
  expect(stored).toEqual(validIds);
  expect(rows.rows.every((r) => r.n === 1)).toBe(true);
  const sample = rows.rows.find((r) => r.request_id.endsWith(':ord-41'))!;
  expect(JSON.parse(sample.params)).toEqual({ order_id: 1_000_000_000_041, region: 'r0' });
  const other = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_instances WHERE name <> 'orders/created'`);
  expect(other.rows[0]!.n).toBe(0);

  // The dead-letter topic holds every malformed message (at least once) with its reason.
  const dead = new Map<string, { reason: string; topic: string; offset: string }>();
  const consumer = kafka.consumer({ groupId: `${groupId}-dlq-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic: dlq, fromBeginning: true });
  const [dlqEnd] = await admin.fetchTopicOffsets(dlq);
  let read = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${read} dead letters of ${dlqEnd!.high}`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const h = (k: string): string => message.headers![k]!.toString();
        dead.set(h('msg-id'), { reason: h(DLQ_HEADERS.reason), topic: h(DLQ_HEADERS.topic), offset: h(DLQ_HEADERS.offset) });
        if (++read >= Number(dlqEnd!.high)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  expect(new Set(dead.keys())).toEqual(new Set(poisonIds.keys()));
  for (const [id, poison] of poisonIds) {
    const d = dead.get(id)!;
    expect(d.topic).toBe(topic);
    expect(d.offset).toMatch(/^\d+$/);
    expect(d.reason).toMatch(poison === 'not-json' ? /value is not valid JSON/ : /param "order_id": field "id" is missing/);
  }
}, 180_000);
