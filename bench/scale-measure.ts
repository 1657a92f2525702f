/**
 * The measurements bench/scale.bench.ts repeats at each size: REST batch publish, Kafka ingest,
 * publish → instance latency at a steady rate, read-query percentiles, the retention pass.
 */
import { logLevel, Kafka, Partitioners } from 'kafkajs';
import { execFile } from 'node:child_process';
import { listInstancesAcross, type PgDb } from '@baton/engine-core';
import { listInstances, runRetentionPass, type SignalService } from '@baton/signals';
import { KafkaIngestor } from '../packages/signals/src/sources/kafka/ingest.js';
import { KafkajsAdapter } from '../packages/signals/src/sources/kafka/kafkajs-adapter.js';
import { FILL_NAMES } from './scale-fill.js';
import { postJson, runConcurrently } from './signal-post.js';

export { closeAgent, postJson } from './signal-post.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Signals/s over `batches` POSTs of 1,000 signals from 4 clients; none fires a trigger. */
export async function restPublishRate(address: string, batches: number, tag: string): Promise<number> {
  const bodies = Array.from({ length: batches }, (_, b) =>
    JSON.stringify({ signals: Array.from({ length: 1000 }, (_, j) => ({ name: `bench/n${(b * 7 + j) % FILL_NAMES}`, params: { shard: 'none', batch: b, row: j, tag }, payload: { row: j } })) }),
  );
  const t0 = performance.now();
  await runConcurrently(bodies.length, 4, async (i) => {
    const res = await postJson(address, bodies[i]!);
    if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.text}`);
  });
  return (batches * 1000) / ((performance.now() - t0) / 1000);
}

/**
 * Publish → instance-created latency (ms) at `rate` signals/s for `seconds`, each signal its own
 * POST firing one trigger (shard 'S'); to the instance's CREATED timeline entry.
 */
export async function publishToInstance(db: PgDb, address: string, rate: number, seconds: number, tag: string): Promise<{ p50: number; p99: number; started: number; expected: number }> {
  const total = Math.round(rate * seconds);
  const sent = new Map<string, number>();
  const inflight: Promise<unknown>[] = [];
  const t0 = Date.now();
  for (let i = 0; i < total; ) {
    const wait = t0 + (i / rate) * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    for (let j = 0; j < rate / 100 && i < total; j++, i++) {
      const requestId = `lat-${tag}-${i}`;
      sent.set(requestId, Date.now());
      inflight.push(postJson(address, JSON.stringify({ name: `bench/n${i % FILL_NAMES}`, params: { shard: 'S', i }, request_id: requestId })));
    }
  }
  await Promise.all(inflight);
  const count = async () =>
    Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM baton_workflow_instances WHERE request_id LIKE $1`, [`signal-trigger:%lat-${tag}-%`])).rows[0]!.n);
  const deadline = Date.now() + 60_000;
  while ((await count()) < total && Date.now() < deadline) await sleep(100);
  const rows = await db.query<{ rid: string; created_ms: number }>(
    `SELECT i.initiator -> 'signals' -> 0 ->> 'instance_id' AS rid, (extract(epoch FROM t.at) * 1000)::float8 AS created_ms
       FROM baton_workflow_instances i JOIN baton_instance_timeline t ON t.instance_pk = i.id AND t.to_status = 'CREATED'
      WHERE i.request_id LIKE $1`,
    [`signal-trigger:%lat-${tag}-%`],
  );
  const lat = rows.rows.filter((r) => sent.has(r.rid)).map((r) => r.created_ms - sent.get(r.rid)!);
  return { p50: pct(lat, 50), p99: pct(lat, 99), started: lat.length, expected: total };
}

/**
 * Waits until the matcher has taken every queued match job (at most `maxMs`), so that the next
 * phase measures itself and not the matching of the phase before. False when it gave up.
 */
export async function waitMatched(db: PgDb, maxMs = 300_000): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  while (Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM signal_match_queue')).rows[0]!.n) > 0) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export interface QueryTimes {
  /** The first call (after the fill's VACUUM ANALYZE: the closest to a cold cache the bench gets). */
  first: number;
  /** Warm: over `runs` calls after 10 warm-up calls. */
  p50: number;
  p99: number;
  runs: number;
}

async function timed(runs: number, fn: (i: number) => Promise<unknown>): Promise<QueryTimes> {
  const t0 = performance.now();
  await fn(runs);
  const first = performance.now() - t0;
  for (let i = 0; i < Math.min(10, runs); i++) await fn(i);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return { first, p50: pct(ms, 50), p99: pct(ms, 99), runs };
}

export type QueryName = 'signalList' | 'lineage' | 'instanceList';

/** Signals that started a run (their lineage is what the lineage query reads). */
export async function lineagePicks(db: PgDb): Promise<{ n: string; s: number | string }[]> {
  const sample = await db.query<{ n: string; s: number | string }>(`SELECT signal_name AS n, seq_id AS s FROM signal_lineage ORDER BY id DESC LIMIT 500`);
  return sample.rows.length > 0 ? sample.rows : [{ n: 'bench/n0', s: 1 }];
}

/**
 * The measured queries, on any session: a signal name's newest page of 50, the lineage of a
 * signal that started a run (depth 3; a purged one answers from its tombstone), the instance list
 * (newest 50 SUCCEEDED). `i` picks the name / signal.
 */
export function queries(picks: { n: string; s: number | string }[], service: (q: PgDb) => SignalService): Record<QueryName, (q: PgDb, i: number) => Promise<unknown>> {
  const services = new Map<PgDb, SignalService>();
  const of = (q: PgDb) => services.get(q) ?? services.set(q, service(q)).get(q)!;
  return {
    signalList: (q, i) => listInstances(q, `bench/n${i % FILL_NAMES}`, { limit: 50 }),
    lineage: (q, i) => of(q).lineageOfSignal(picks[i % picks.length]!.n, BigInt(picks[i % picks.length]!.s), 3),
    instanceList: (q) => listInstancesAcross(q, { statuses: ['SUCCEEDED'], limit: 50 }),
  };
}

/**
 * Lets the database settle before a measuring phase, as it is between bursts in service: a
 * CHECKPOINT writes out what the fill (12 GB in 3 minutes at 20M, far faster than any real
 * ingest) or the phase before left dirty, `sync` has the kernel write it to disk, and autovacuum workers busy with those rows are waited
 * for (at most `maxWaitMs`). Without it a phase at 20M measures the flush of the fill behind it.
 * Returns the milliseconds spent and whether autovacuum was still running at the limit.
 */
export async function settle(db: PgDb, maxWaitMs = 60_000): Promise<{ ms: number; autovacuumRunning: boolean }> {
  const t0 = performance.now();
  await db.exec('CHECKPOINT');
  // The throwaway server runs with fsync off, so the kernel still holds gigabytes of the fill's
  // written pages and flushes them in the background, into the next phase: flush them now.
  await new Promise<void>((res) => execFile('sync', () => res()));
  const deadline = t0 + maxWaitMs;
  let running = true;
  while (performance.now() < deadline) {
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND state = 'active'`);
    running = r.rows[0]!.n > 0;
    if (!running) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  if (running) await db.exec('CHECKPOINT');
  return { ms: performance.now() - t0, autovacuumRunning: running };
}

/** p50/p99 of each query over `runs` warm calls, and its first call. */
export async function queryTimes(db: PgDb, runs: number, service: (q: PgDb) => SignalService): Promise<Record<QueryName, QueryTimes>> {
  const q = queries(await lineagePicks(db), service);
  return {
    signalList: await timed(runs, (i) => q.signalList(db, i)),
    lineage: await timed(runs, (i) => q.lineage(db, i)),
    instanceList: await timed(runs, (i) => q.instanceList(db, i)),
  };
}

export interface RetentionFigures {
  ms: number;
  /** Partitions dropped, the expired rows they held, tombstones written, rows kept (still needed). */
  partitions: number;
  rows: number;
  tombstones: number;
  kept: number;
}

/**
 * One retention pass as the service's retention loop runs it (signals; finished runs are kept by
 * default). A partition it had to skip (the table's lock not had within its timeout) is counted,
 * and a second pass, timed apart, takes it, as the loop's next pass would.
 */
export async function retentionPass(db: PgDb): Promise<RetentionFigures & { skipped: number; retryMs?: number }> {
  const t0 = performance.now();
  const r = await runRetentionPass(db);
  const ms = performance.now() - t0;
  const dropped = [...r.dropped];
  let retryMs: number | undefined;
  if (r.skipped.length > 0) {
    const t1 = performance.now();
    dropped.push(...(await runRetentionPass(db)).dropped);
    retryMs = performance.now() - t1;
  }
  const sum = (k: 'rows' | 'tombstones' | 'kept') => dropped.reduce((a, d) => a + d[k], 0);
  return { ms, partitions: dropped.length, rows: sum('rows'), tombstones: sum('tombstones'), kept: sum('kept'), skipped: r.skipped.length, retryMs };
}

/** Signals/s the KafkaIngestor stores `messages` JSON messages at (4 partitions, from the first batch). */
export async function kafkaIngestRate(db: PgDb, brokers: string[], messages: number, tag: string): Promise<number | string> {
  const kafka = new Kafka({ clientId: 'baton-scale-bench', brokers, logLevel: logLevel.NOTHING });
  const topic = `baton-scale-${tag}-${Date.now().toString(36)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < messages; i += 5000) {
    const msgs = [];
    for (let k = i; k < Math.min(messages, i + 5000); k++) msgs.push({ key: String(k), value: JSON.stringify({ kind: `bench/n${k % FILL_NAMES}`, id: k, shard: 'K' }) });
    await producer.send({ topic, acks: -1, messages: msgs });
  }
  await producer.disconnect();
  let first = 0;
  const adapter = new KafkajsAdapter({ brokers, clientId: 'baton-scale-bench', logLevel: logLevel.NOTHING });
  const timed = {
    producer: () => adapter.producer(),
    consumer: (groupId: string) => {
      const c = adapter.consumer(groupId);
      return { ...c, start: (o: Parameters<typeof c.start>[0]) => c.start({ ...o, handler: (b) => ((first ||= performance.now()), o.handler(b)) }), stop: () => c.stop(), onCrash: (l: Parameters<typeof c.onCrash>[0]) => c.onCrash(l) };
    },
  };
  const ingestor = new KafkaIngestor({
    db,
    adapter: timed,
    concurrency: 4,
    config: {
      brokers,
      clientId: 'baton-scale-bench',
      groupId: `${topic}-g`,
      deadLetterTopic: `${topic}-dlq`,
      subscriptions: [{ topic, format: 'json', mapping: { name: { field: 'kind' }, params: { id: { field: 'id' }, shard: { field: 'shard' } }, payload: 'message' }, cloudevents: { nameAttribute: 'type', params: 'data' }, dedupe: 'offset' }],
    },
  });
  await ingestor.start();
  // A stalled broker or consumer ends the measurement with a reason instead of hanging the run.
  const deadline = performance.now() + 300_000;
  try {
    for (;;) {
      const s = ingestor.stats();
      if (s.indexed + s.duplicates + s.deadLettered >= messages) break;
      if (performance.now() > deadline) return `n/a: ${s.indexed + s.duplicates + s.deadLettered}/${messages} ingested in 300 s`;
      await sleep(5);
    }
    return messages / ((performance.now() - first) / 1000);
  } finally {
    await ingestor.stop();
  }
}
