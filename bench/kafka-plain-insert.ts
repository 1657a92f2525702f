/**
 * bench:kafka's bound to beat (its step 3, see kafka.bench.ts): what an exactly-once store must
 * write at least, with plain batched INSERTs, and the messages the bench produces.
 */
import type { PgDb } from '@baton/engine-core';
import { cpuSince, cpuTimes, type CpuTimes } from './support.js';

export const PARTITIONS = 4;
export const NAMES = 100;
const RAW_BATCH = 1000;
export const RAW_CLIENTS = 4;

export interface Round {
  /** From the first fetched batch to the last message handled. */
  secs: number;
  cpu: CpuTimes;
}

/** The JSON value of message k, as produced. */
export function messageBody(k: number): { kind: string; id: number; shard: string; amount: number; note: string } {
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

/**
 * A copy of what an exactly-once store writes: `<prefix>_instances`, partitioned like
 * signal_instances with the same partition bounds and indexes, and `<prefix>_keys`, like
 * signal_instance_keys.
 */
export async function createStoreCopy(db: PgDb, prefix: string): Promise<void> {
  await db.exec(`CREATE TABLE ${prefix}_instances (LIKE signal_instances INCLUDING ALL) PARTITION BY RANGE (expire_at)`);
  const parts = await db.query<{ bound: string }>(
    `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'signal_instances'::regclass ORDER BY c.relname`,
  );
  for (const [j, p] of parts.rows.entries()) await db.exec(`CREATE TABLE ${prefix}_instances_${j} PARTITION OF ${prefix}_instances ${p.bound}`);
  await db.exec(`CREATE TABLE ${prefix}_keys (LIKE signal_instance_keys INCLUDING ALL)`);
}

/** The plain batched INSERTs of every message's row and dedupe key (step 3). */
export async function plainInsert(db: PgDb, topic: string, group: string, messages: number): Promise<Round> {
  await db.exec('TRUNCATE bench_raw_instances, bench_raw_keys');
  const r0 = performance.now();
  const cpu0 = cpuTimes();
  await runConcurrently(Math.ceil(messages / RAW_BATCH), RAW_CLIENTS, async (b) => {
    const ks = Array.from({ length: Math.min(RAW_BATCH, messages - b * RAW_BATCH) }, (_, j) => b * RAW_BATCH + j);
    const bodies = ks.map(messageBody);
    const ids = ks.map((k) => `kafka:${topic}:${k % PARTITIONS}:${k}`);
    await db.query(
      `WITH t AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::jsonb[]) AS u(n, s, i, r, p, pl, src)
       ), ins AS (
         INSERT INTO bench_raw_instances (name, seq_id, expire_at, instance_id, request_id, params, payload, source)
         SELECT n, s, now() + interval '30 days', i, r, p, pl, src FROM t
       )
       INSERT INTO bench_raw_keys (name, instance_id, seq_id) SELECT n, i, s FROM t`,
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
  return { secs: (performance.now() - r0) / 1000, cpu: cpuSince(cpu0) };
}

