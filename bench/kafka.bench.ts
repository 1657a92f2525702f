/**
 * Kafka ingestion benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else BATON_TEST_PG_URL, else a
 * throwaway server started here) and Kafka (BATON_BENCH_KAFKA_BROKERS, else
 * BATON_TEST_KAFKA_BROKERS, else a throwaway broker started here), with 1,000 active signal
 * triggers and the background matcher running:
 *  1. The limit: a bare kafkajs consumer reading the topic (counting messages, nothing else).
 *  2. Baton: the KafkaIngestor reading the same topic in its own group, mapping each JSON
 *     message to a signal, indexing it in PostgreSQL and committing offsets after each
 *     transaction, while the matcher evaluates every signal against its name's subscriptions.
 *  3. The database's limit: the same rows (name, seq id, instance id, request id, params, payload,
 *     source) written with plain batched INSERTs into a copy of signal_instances (same indexes),
 *     by 4 concurrent clients, as bench:signals does: no Kafka, no dedupe, no counters, no match
 *     jobs. Any design that stores each signal in that table is bounded by it.
 * Kafka rates are measured from the first fetched batch to the last message handled (group join
 * time excluded from both). Prints a table and, as its last line, one JSON object.
 * BENCH_KAFKA_LANES sets the ingestor's lanes (default: the product default).
 */
import { logLevel, Kafka, Partitioners } from 'kafkajs';
import { migrate, PgDb, type Queryable } from '@baton/engine-core';
import { SignalService, signalsMigrations, stringifyJson, type StartRequest } from '@baton/signals';
import type { KafkaSourceConfig } from '../packages/signals/src/sources/config.js';
import type { ConsumerRunOptions, KafkaAdapter, KafkaConsumerAdapter } from '../packages/signals/src/sources/kafka/adapter.js';
import { DEFAULT_POSTGRES_LANES, KafkaIngestor } from '../packages/signals/src/sources/kafka/ingest.js';
import { KafkajsAdapter } from '../packages/signals/src/sources/kafka/kafkajs-adapter.js';
import { startKafka } from '../scripts/infra/kafka.js';
import { createDatabase, startPostgres } from '../scripts/infra/postgres.js';
import { signalTriggerDefinition } from './support.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const PARTITIONS = 4;
const TRIGGERS = 1000;
const NAMES = 100;
const RAW_BATCH = 1000;
const RAW_CLIENTS = 4;
const LANES = process.env.BENCH_KAFKA_LANES ? Number(process.env.BENCH_KAFKA_LANES) : undefined;

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/** Notes when the first batch arrives, so the rate leaves out joining the group. */
class FirstBatchClock implements KafkaAdapter {
  firstBatchAt: number | undefined;
  constructor(private readonly inner: KafkaAdapter) {}
  producer() {
    return this.inner.producer();
  }
  consumer(groupId: string): KafkaConsumerAdapter {
    const c = this.inner.consumer(groupId);
    return {
      start: (opts: ConsumerRunOptions) =>
        c.start({
          ...opts,
          handler: (batch) => {
            this.firstBatchAt ??= performance.now();
            return opts.handler(batch);
          },
        }),
      stop: () => c.stop(),
      onCrash: (l) => c.onCrash(l),
    };
  }
}

/** The JSON value of message k, as produced. */
function messageBody(k: number): { kind: string; id: number; shard: string; amount: number; note: string } {
  return { kind: `bench/n${k % NAMES}`, id: k, shard: `X${k % 7}`, amount: (k * 31) % 1000, note: 'bench message' };
}

async function runConcurrently(n: number, workers: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function main(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  let adminUrl = process.env.BATON_BENCH_PG_URL ?? process.env.BATON_TEST_PG_URL;
  let brokers = (process.env.BATON_BENCH_KAFKA_BROKERS ?? process.env.BATON_TEST_KAFKA_BROKERS)?.split(',').map((b) => b.trim()).filter(Boolean);
  const [pgServer, kafkaServer] = await Promise.all([adminUrl ? undefined : startPostgres(), brokers ? undefined : startKafka({ heap: '512m' })]);
  if (pgServer) {
    adminUrl = pgServer.url;
    stops.push(() => pgServer.stop());
  }
  if (kafkaServer) {
    brokers = kafkaServer.brokers;
    stops.push(() => kafkaServer.stop());
  }
  const database = await createDatabase(adminUrl!, 'baton_bench');
  const db = new PgDb({ connectionString: database.url, max: 12, applicationName: 'kafka-bench' });
  const kafka = new Kafka({ clientId: 'baton-bench', brokers: brokers!, logLevel: logLevel.NOTHING });
  let signals: SignalService | undefined;
  try {
    await migrate(db, [signalsMigrations]);
    await db.exec('CREATE TABLE bench_starts (id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, initiator JSONB NOT NULL)');
    const starter = {
      async startWorkflow(tx: Queryable, req: StartRequest) {
        const r = await tx.query<{ id: number }>(
          `INSERT INTO bench_starts (request_id, initiator) VALUES ($1, $2::jsonb) ON CONFLICT (request_id) DO UPDATE SET request_id = EXCLUDED.request_id RETURNING id`,
          [req.requestId, stringifyJson(req.initiator)],
        );
        return { workflowInstanceId: r.rows[0]!.id, created: true };
      },
    };
    signals = new SignalService(db, { starter, expressions: { condition: () => true, dedupKey: () => undefined }, matcherConcurrency: 2 });
    // 1,000 triggers: 10 per name over 100 names, each selecting a shard no message carries, so
    // every signal is evaluated against its name's subscriptions and nothing starts.
    for (let k = 0; k < TRIGGERS; k++) await signals.syncSubscriptions(`bench-wf-${k}`, signalTriggerDefinition(`bench-wf-${k}`, `bench/n${k % NAMES}`, `S${Math.floor(k / NAMES)}`, []));
    await signals.start();
    say(`${TRIGGERS} triggers active`);

    const topic = `baton-bench-${Date.now().toString(36)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();

    say(`producing ${MESSAGES} messages`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const p0 = performance.now();
    const CHUNK = 5000;
    for (let i = 0; i < MESSAGES; i += CHUNK * 4) {
      const sends: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(MESSAGES, i + CHUNK * 4); j += CHUNK) {
        const msgs = [];
        for (let k = j; k < Math.min(MESSAGES, j + CHUNK); k++) {
          msgs.push({ key: String(k), value: JSON.stringify(messageBody(k)) });
        }
        sends.push(producer.send({ topic, acks: -1, messages: msgs }));
      }
      await Promise.all(sends);
    }
    const produceSecs = (performance.now() - p0) / 1000;
    await producer.disconnect();

    say('bare kafkajs consumer');
    const bare = kafka.consumer({ groupId: `${topic}-bare`, maxBytes: 10 * 1024 * 1024 });
    await bare.connect();
    await bare.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    let bareFirst = 0;
    const bareSecs = await new Promise<number>((resolve) => {
      void bare.run({
        partitionsConsumedConcurrently: PARTITIONS,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (!bareFirst) bareFirst = performance.now();
          seen += batch.messages.length;
          if (seen >= MESSAGES) resolve((performance.now() - bareFirst) / 1000);
        },
      });
    });
    await bare.disconnect();

    say('Baton Kafka ingestion');
    const config: KafkaSourceConfig = {
      brokers: brokers!,
      clientId: 'baton-bench',
      groupId: `${topic}-baton`,
      deadLetterTopic: `${topic}-dlq`,
      subscriptions: [
        {
          topic,
          format: 'json',
          mapping: { name: { field: 'kind' }, params: { id: { field: 'id' }, shard: { field: 'shard' } }, payload: 'message' },
          cloudevents: { nameAttribute: 'type', params: 'data' },
          dedupe: 'offset',
        },
      ],
    };
    const clock = new FirstBatchClock(new KafkajsAdapter({ brokers: brokers!, clientId: 'baton-bench', logLevel: logLevel.NOTHING }));
    const ingestor = new KafkaIngestor({ db, adapter: clock, config, concurrency: PARTITIONS, ...(LANES ? { lanes: LANES } : {}) });
    await ingestor.start();
    for (;;) {
      const s = ingestor.stats();
      if (s.indexed + s.duplicates + s.deadLettered >= MESSAGES) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const batonSecs = (performance.now() - clock.firstBatchAt!) / 1000;
    const stats = ingestor.stats();
    await ingestor.stop();
    const stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_instances')).rows[0]!.n;
    if (stored !== MESSAGES) throw new Error(`expected ${MESSAGES} stored signals, found ${stored}`);
    const drainStart = performance.now();
    // A match job covers a range of one name's instances: count the instances.
    const unmatched = async () => (await db.query<{ n: number }>('SELECT coalesce(sum(coalesce(seq_to, seq_id) - seq_id + 1), 0)::int AS n FROM signal_match_queue')).rows[0]!.n;
    const backlog = await unmatched();
    // The running matchers finish it (a drain() here would stop at rows they hold locked).
    while ((await unmatched()) > 0) await new Promise((r) => setTimeout(r, 5));
    const drainSecs = (performance.now() - drainStart) / 1000;

    say('plain batched INSERTs of the same rows');
    // Stopped first, so the matcher does not compete for the CPU the ceiling is measured with.
    await signals.stop();
    signals = undefined;
    await db.exec('CREATE TABLE bench_raw_instances (LIKE signal_instances INCLUDING ALL)');
    const group = `${topic}-raw`;
    const r0 = performance.now();
    await runConcurrently(Math.ceil(MESSAGES / RAW_BATCH), RAW_CLIENTS, async (b) => {
      const ks = Array.from({ length: Math.min(RAW_BATCH, MESSAGES - b * RAW_BATCH) }, (_, j) => b * RAW_BATCH + j);
      const bodies = ks.map(messageBody);
      const ids = ks.map((k) => `kafka:${topic}:${k % PARTITIONS}:${k}`);
      await db.query(
        `INSERT INTO bench_raw_instances (name, seq_id, instance_id, request_id, params, payload, source)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::jsonb[])`,
        [
          bodies.map((m) => m.kind),
          ks.map((k) => k + 1),
          ids,
          ids,
          bodies.map((m) => JSON.stringify({ id: m.id, shard: m.shard })),
          bodies.map((m) => JSON.stringify(m)),
          ks.map((k) => JSON.stringify({ type: 'KAFKA', topic, partition: k % PARTITIONS, offset: String(k), group })),
        ],
      );
    });
    const rawSecs = (performance.now() - r0) / 1000;

    const bareRate = MESSAGES / bareSecs;
    const batonRate = MESSAGES / batonSecs;
    const rawRate = MESSAGES / rawSecs;
    const rows: [string, string][] = [
      ['messages', String(MESSAGES)],
      ['partitions', String(PARTITIONS)],
      ['active triggers', String(TRIGGERS)],
      ['produce (acks=all)', `${Math.round(MESSAGES / produceSecs)} msg/s`],
      ['bare kafkajs consumer', `${Math.round(bareRate)} msg/s (${bareSecs.toFixed(2)} s)`],
      ['Baton ingest → PostgreSQL', `${Math.round(batonRate)} signals/s (${batonSecs.toFixed(2)} s, ${stats.commits} commits)`],
      ['Baton / bare (target >= 0.25)', (batonRate / bareRate).toFixed(3)],
      [`plain batched INSERT of the same rows (${RAW_CLIENTS} clients)`, `${Math.round(rawRate)} rows/s (${rawSecs.toFixed(2)} s)`],
      ['Baton / plain INSERT', (batonRate / rawRate).toFixed(3)],
      ['plain INSERT / bare (the ceiling of Baton / bare)', (rawRate / bareRate).toFixed(3)],
      ['signals left to match at ingest end', `${backlog} (drained in ${drainSecs.toFixed(2)} s)`],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
    console.log(
      JSON.stringify({
        bench: 'kafka',
        messages: MESSAGES,
        partitions: PARTITIONS,
        triggers: TRIGGERS,
        bare_msgs_per_s: Math.round(bareRate),
        baton_signals_per_s: Math.round(batonRate),
        ratio: Number((batonRate / bareRate).toFixed(3)),
        raw_insert_rows_per_s: Math.round(rawRate),
        ratio_vs_raw_insert: Number((batonRate / rawRate).toFixed(3)),
        raw_insert_vs_bare: Number((rawRate / bareRate).toFixed(3)),
        lanes: LANES ?? DEFAULT_POSTGRES_LANES,
        commits: stats.commits,
        target_signals_per_s: 10_000,
        target_ratio: 0.25,
        meets_target: batonRate >= 10_000 && batonRate / bareRate >= 0.25,
        match_backlog_at_end: backlog,
      }),
    );
  } finally {
    await signals?.stop();
    await db.close();
    await database.drop();
    for (const stop of stops) await stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
