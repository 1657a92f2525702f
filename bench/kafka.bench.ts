/**
 * Kafka ingestion benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else BATON_TEST_PG_URL, else a
 * throwaway server started here) and Kafka (BATON_BENCH_KAFKA_BROKERS, else
 * BATON_TEST_KAFKA_BROKERS, else a throwaway broker started here), with 1,000 active signal
 * triggers and the background matcher running:
 *  1. The limit: a bare kafkajs consumer reading the topic (counting messages, nothing else).
 *  2. Baton: the KafkaIngestor reading the same topic in its own group, mapping each JSON
 *     message to a signal, indexing it in PostgreSQL and committing offsets after each
 *     transaction, while the matcher evaluates every signal against its name's subscriptions.
 *  3. The database's limit: the same rows (name, seq id, expiry, instance id, request id, params,
 *     payload, source) written with plain batched INSERTs, by 4 concurrent clients, as
 *     bench:signals does: no Kafka, no counters, no match jobs, no validation. It writes what an
 *     exactly-once store must write at least, and no more: each row into a copy of
 *     signal_instances partitioned the same way (same partition bounds, same indexes: a
 *     partitioned table routes every row to its partition, which a plain table does not), and its
 *     dedupe key into a copy of signal_instance_keys, in the same statement. Since migration 0200
 *     the (name, instance_id) uniqueness lives only in that key table (a unique index of a
 *     partitioned table must hold the partition key), so a baseline without it would store rows
 *     nothing could dedupe: not a bound an exactly-once design can be held to. The rows expire
 *     30 days out (a constant: no per-name retention lookup, which stays Baton's own cost).
 *     Params, payload and source go as text arrays cast to jsonb, parsed once by the server.
 *  4. The database alone: the same rows copied server-side (INSERT ... SELECT from a staging
 *     table) into another such pair of copies. Its PostgreSQL CPU per row plus the bare consumer's
 *     CPU per message is the least any design that stores each signal there needs: cores / that
 *     sum bounds its rate.
 * Steps 1, 2 and 3 run BENCH_ROUNDS times (default 3), side by side, each Baton round and each
 * plain-INSERT round into emptied tables and each consumer in a new group; rates and the ratios
 * are medians over rounds (the ratio to the plain INSERT: the median of each round's ratio, so
 * both sides of a ratio ran under the same machine load). Kafka
 * rates are measured from the first fetched batch to the last message handled (group join time
 * excluded from both), and so is the CPU each used per message: this process, PostgreSQL's
 * processes and the broker's JVM (from /proc). On a machine of few cores that sum bounds the rate:
 * cores / (CPU per signal). Prints a table and, as its last line, one JSON object.
 * BENCH_KAFKA_LANES, BENCH_KAFKA_CHUNK and BENCH_KAFKA_TX set the ingestor's lanes, chunk size and
 * signals per transaction (default: the product defaults). BENCH_KAFKA_MATCHER=off leaves the
 * matcher stopped (a diagnosis: how much of Baton's time is the matcher's, not the ingestor's).
 */
import { availableParallelism } from 'node:os';
import { logLevel, Kafka, Partitioners } from 'kafkajs';
import { migrate, PgDb, type Queryable } from '@baton/engine-core';
import { matchBacklog, SignalService, signalsMigrations, stringifyJson, type StartRequest } from '@baton/signals';
import type { KafkaSourceConfig } from '../packages/signals/src/sources/config.js';
import type { ConsumerRunOptions, KafkaAdapter, KafkaConsumerAdapter } from '../packages/signals/src/sources/kafka/adapter.js';
import { DEFAULT_POSTGRES_LANES, KafkaIngestor } from '../packages/signals/src/sources/kafka/ingest.js';
import { KafkajsAdapter } from '../packages/signals/src/sources/kafka/kafkajs-adapter.js';
import { startKafka } from '../scripts/infra/kafka.js';
import { createDatabase, startPostgres } from '../scripts/infra/postgres.js';
import { createStoreCopy, messageBody, NAMES, PARTITIONS, plainInsert, RAW_CLIENTS, type Round } from './kafka-plain-insert.js';
import { cpuSince, cpuTimes, median, runMain, scopePostgresCpu, signalTriggerDefinition, type CpuTimes } from './support.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const TRIGGERS = 1000;
const LANES = process.env.BENCH_KAFKA_LANES ? Number(process.env.BENCH_KAFKA_LANES) : undefined;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK_SIZE = process.env.BENCH_KAFKA_CHUNK ? Number(process.env.BENCH_KAFKA_CHUNK) : undefined;
const MAX_PER_TX = process.env.BENCH_KAFKA_TX ? Number(process.env.BENCH_KAFKA_TX) : undefined;
const MATCHER = process.env.BENCH_KAFKA_MATCHER !== 'off';

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/** Notes when the first batch arrives, so the rate leaves out joining the group. */
class FirstBatchClock implements KafkaAdapter {
  firstBatchAt: number | undefined;
  onFirstBatch: () => void = () => {};
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
            if (this.firstBatchAt === undefined) {
              this.firstBatchAt = performance.now();
              this.onFirstBatch();
            }
            return opts.handler(batch);
          },
        }),
      stop: () => c.stop(),
      onCrash: (l) => c.onCrash(l),
    };
  }
}


interface BatonRound extends Round {
  commits: number;
  backlog: number;
  drainSecs: number;
}

/** The limit: a kafkajs consumer reading the whole topic in a new group, counting messages. */
async function bareConsumer(kafka: Kafka, topic: string, groupId: string): Promise<Round> {
  const bare = kafka.consumer({ groupId, maxBytes: 10 * 1024 * 1024 });
  await bare.connect();
  await bare.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let cpu0: CpuTimes | undefined;
  const secs = await new Promise<number>((resolve) => {
    void bare.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        if (!first) {
          first = performance.now();
          cpu0 = cpuTimes();
        }
        seen += batch.messages.length;
        if (seen >= MESSAGES) resolve((performance.now() - first) / 1000);
      },
    });
  });
  const cpu = cpuSince(cpu0!);
  await bare.disconnect();
  return { secs, cpu };
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
    await scopePostgresCpu(db);
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
    if (MATCHER) await signals.start();
    say(`${TRIGGERS} triggers active${MATCHER ? '' : ', matcher stopped'}`);

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
    const unmatched = async () => (await matchBacklog(db)).signals;

    const bareRounds: Round[] = [];
    const batonRounds: BatonRound[] = [];
    const rawRounds: Round[] = [];
    await createStoreCopy(db, 'bench_raw');
    for (let round = 1; round <= ROUNDS; round++) {
      say(`round ${round}/${ROUNDS}: bare kafkajs consumer`);
      bareRounds.push(await bareConsumer(kafka, topic, `${topic}-bare-${round}`));

      say(`round ${round}/${ROUNDS}: Baton Kafka ingestion`);
      // Each round stores the same messages again, into empty tables, in a group of its own.
      await db.exec('TRUNCATE signal_instances, signal_instance_keys, signal_names, signal_match_queue');
      const clock = new FirstBatchClock(new KafkajsAdapter({ brokers: brokers!, clientId: 'baton-bench', logLevel: logLevel.NOTHING }));
      const ingestor = new KafkaIngestor({ db, adapter: clock, config: { ...config, groupId: `${topic}-baton-${round}` }, pressure: signals.ingestPressure, concurrency: PARTITIONS, ...(LANES ? { lanes: LANES } : {}), ...(CHUNK_SIZE ? { chunkSize: CHUNK_SIZE } : {}), ...(MAX_PER_TX ? { maxSignalsPerTx: MAX_PER_TX } : {}) });
      let cpu0: CpuTimes | undefined;
      clock.onFirstBatch = () => (cpu0 = cpuTimes());
      await ingestor.start();
      for (;;) {
        const s = ingestor.stats();
        if (s.indexed + s.duplicates + s.deadLettered >= MESSAGES) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const secs = (performance.now() - clock.firstBatchAt!) / 1000;
      const cpu = cpuSince(cpu0!);
      const stats = ingestor.stats();
      // Read when the ingest ends: stopping the consumer can take seconds (kafkajs waits for its
      // fetch in flight), during which the matcher, no longer deferring, would work unseen.
      const drainStart = performance.now();
      const backlog = await unmatched();
      await ingestor.stop();
      const stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_instances')).rows[0]!.n;
      if (stored !== MESSAGES) throw new Error(`expected ${MESSAGES} stored signals, found ${stored}`);
      // The running matchers finish it (a drain() here would stop at rows they hold locked).
      while (MATCHER && (await unmatched()) > 0) await new Promise((r) => setTimeout(r, 5));
      batonRounds.push({ secs, cpu, commits: stats.commits, backlog, drainSecs: (performance.now() - drainStart) / 1000 });
      // The matchers are idle again: they do not compete for the CPU the ceiling is measured with.
      say(`round ${round}/${ROUNDS}: plain batched INSERTs of the same rows and keys`);
      rawRounds.push(await plainInsert(db, topic, `${topic}-raw`, MESSAGES));
      say(
        `round ${round}: bare ${Math.round(MESSAGES / bareRounds[round - 1]!.secs)} msg/s, Baton ${Math.round(MESSAGES / secs)} signals/s, ` +
          `plain INSERT ${Math.round(MESSAGES / rawRounds[round - 1]!.secs)} rows/s`,
      );
    }

    await signals.stop();
    signals = undefined;
    say('server-side copy of the stored rows (the database alone)');
    // The database's own cost of a row, with no client, no parsing and no network: the rows are
    // copied from an unindexed staging table into another empty copy of signal_instances, in one
    // session. The least any design that stores each signal there makes PostgreSQL spend.
    await db.exec('CREATE UNLOGGED TABLE bench_staged AS SELECT * FROM bench_raw_instances');
    await createStoreCopy(db, 'bench_copy');
    await db.exec('VACUUM ANALYZE bench_staged');
    const copyCpu0 = cpuTimes();
    const c0 = performance.now();
    await db.exec(
      `WITH ins AS (INSERT INTO bench_copy_instances SELECT * FROM bench_staged)
       INSERT INTO bench_copy_keys (name, instance_id, seq_id) SELECT name, instance_id, seq_id FROM bench_staged`,
    );
    const copySecs = (performance.now() - c0) / 1000;
    const copyCpu = cpuSince(copyCpu0);

    const rawRate = median(rawRounds.map((r) => MESSAGES / r.secs));
    const rawRatio = median(batonRounds.map((r, i) => rawRounds[i]!.secs / r.secs));
    const bareRate = median(bareRounds.map((r) => MESSAGES / r.secs));
    const batonRate = median(batonRounds.map((r) => MESSAGES / r.secs));
    const ratio = median(batonRounds.map((r, i) => bareRounds[i]!.secs / r.secs));
    const perMessage = (rounds: Round[], k: keyof CpuTimes) => median(rounds.map((r) => (r.cpu[k] / MESSAGES) * 1e6));
    const cpuCell = (rounds: Round[]) => {
      const [self, pg, broker] = [perMessage(rounds, 'self'), perMessage(rounds, 'postgres'), perMessage(rounds, 'kafka')];
      return `${(self + pg + broker).toFixed(1)} µs (Node ${self.toFixed(1)}, PostgreSQL ${pg.toFixed(1)}, broker ${broker.toFixed(1)})`;
    };
    const cores = availableParallelism();
    const batonCpu = (['self', 'postgres', 'kafka'] as const).reduce((sum, k) => sum + perMessage(batonRounds, k), 0);
    // The least CPU any design needs per signal: reading it (the bare consumer) plus the
    // database's work to store its row (the server-side copy's PostgreSQL time).
    const bareCpu = (['self', 'postgres', 'kafka'] as const).reduce((sum, k) => sum + perMessage(bareRounds, k), 0);
    const rawRowCpu = perMessage(rawRounds, 'postgres');
    const rowCpu = (copyCpu.postgres / MESSAGES) * 1e6;
    const floorRate = (cores * 1e6) / (bareCpu + rowCpu);
    const rows: [string, string][] = [
      ['messages / partitions / active triggers', `${MESSAGES} / ${PARTITIONS} / ${TRIGGERS}`],
      ['produce (acks=all)', `${Math.round(MESSAGES / produceSecs)} msg/s`],
      [`rounds (bare, then Baton, side by side)`, String(ROUNDS)],
      ['bare kafkajs consumer, median', `${Math.round(bareRate)} msg/s (rounds: ${bareRounds.map((r) => r.secs.toFixed(2)).join(', ')} s)`],
      ['Baton ingest → PostgreSQL, median', `${Math.round(batonRate)} signals/s (rounds: ${batonRounds.map((r) => r.secs.toFixed(2)).join(', ')} s)`],
      ['Baton / bare, median of rounds (target >= 0.25)', ratio.toFixed(3)],
      ['CPU per message, bare', cpuCell(bareRounds)],
      ['CPU per signal, Baton', cpuCell(batonRounds)],
      [`Baton's CPU bound on ${cores} cores`, `${Math.round((cores * 1e6) / batonCpu)} signals/s`],
      [`plain batched INSERT of the rows + keys (${RAW_CLIENTS} clients), median`, `${Math.round(rawRate)} rows/s (rounds: ${rawRounds.map((r) => r.secs.toFixed(2)).join(', ')} s; CPU ${cpuCell(rawRounds)})`],
      ['server-side copy of the rows (1 session)', `${Math.round(MESSAGES / copySecs)} rows/s (PostgreSQL CPU ${rowCpu.toFixed(1)} µs/row)`],
      [`bound of any design on ${cores} cores: read + store a row`, `${Math.round(floorRate)} signals/s = ${(floorRate / bareRate).toFixed(3)} of bare`],
      ['Baton / plain INSERT, median of rounds (target >= 0.8)', rawRatio.toFixed(3)],
      ['plain INSERT / bare', (rawRate / bareRate).toFixed(3)],
      ['signals left to match at ingest end', batonRounds.map((r) => `${r.backlog} (matched ${r.drainSecs.toFixed(2)} s later)`).join(', ')],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
    const us = (x: number) => Number(x.toFixed(2));
    console.log(
      JSON.stringify({
        bench: 'kafka',
        messages: MESSAGES,
        partitions: PARTITIONS,
        triggers: TRIGGERS,
        rounds: ROUNDS,
        cores,
        bare_msgs_per_s: Math.round(bareRate),
        baton_signals_per_s: Math.round(batonRate),
        ratio: Number(ratio.toFixed(3)),
        bare_rounds_msgs_per_s: bareRounds.map((r) => Math.round(MESSAGES / r.secs)),
        baton_rounds_signals_per_s: batonRounds.map((r) => Math.round(MESSAGES / r.secs)),
        bare_cpu_us_per_msg: { node: us(perMessage(bareRounds, 'self')), postgres: us(perMessage(bareRounds, 'postgres')), broker: us(perMessage(bareRounds, 'kafka')) },
        baton_cpu_us_per_signal: { node: us(perMessage(batonRounds, 'self')), postgres: us(perMessage(batonRounds, 'postgres')), broker: us(perMessage(batonRounds, 'kafka')) },
        raw_insert_rows_per_s: Math.round(rawRate),
        ratio_vs_raw_insert: Number(rawRatio.toFixed(3)),
        raw_insert_rounds_rows_per_s: rawRounds.map((r) => Math.round(MESSAGES / r.secs)),
        raw_insert_vs_bare: Number((rawRate / bareRate).toFixed(3)),
        raw_insert_pg_cpu_us_per_row: us(rawRowCpu),
        raw_insert_node_cpu_us_per_row: us(perMessage(rawRounds, 'self')),
        server_copy_rows_per_s: Math.round(MESSAGES / copySecs),
        server_copy_pg_cpu_us_per_row: us(rowCpu),
        read_and_store_bound_signals_per_s: Math.round(floorRate),
        read_and_store_bound_vs_bare: Number((floorRate / bareRate).toFixed(3)),
        lanes: LANES ?? DEFAULT_POSTGRES_LANES,
        matcher: MATCHER,
        commits: batonRounds.map((r) => r.commits),
        match_backlog_at_end: batonRounds.map((r) => r.backlog),
        target_signals_per_s: 10_000,
        target_ratio: 0.25,
        meets_target: batonRate >= 10_000 && ratio >= 0.25,
      }),
    );
  } finally {
    await signals?.stop();
    await db.close();
    await database.drop();
    for (const stop of stops) await stop();
  }
}

runMain(main);
