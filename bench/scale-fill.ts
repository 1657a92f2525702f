/**
 * Bulk set-up for bench/scale.bench.ts: stored signals as production stores them (a row in the
 * day partition of its expire_at, its dedupe key in signal_instance_keys), proportional finished
 * runs with their timelines and lineage, and a queued backlog. Written with server-side
 * INSERT ... SELECT generate_series in chunks, several chunks at once in parallel sessions, so
 * reaching 20 million signals costs minutes, not hours.
 */
import type { PgDb } from '@baton/engine-core';
import { listPartitions } from '@baton/signals';
import { dayPartitionName, startOfUtcDay } from '../packages/signals/src/partitions.js';
import { runConcurrently } from './signal-post.js';

/** Signal names the fill spreads rows over (the benches' `bench/n<k>` names). */
export const FILL_NAMES = 100;

/** One finished run (with its timeline and lineage edge) per this many stored signals. */
export const SIGNALS_PER_RUN = 20;

/** Rows per INSERT statement: keeps each statement's WAL and memory bounded. */
const CHUNK = 250_000;
const DAY_MS = 86_400_000;

async function scalar(db: PgDb, sql: string): Promise<number> {
  const r = await db.query<{ n: number | string | null }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

/** Live stored signals (not yet expired: what a retention pass leaves). */
export async function storedSignals(db: PgDb): Promise<number> {
  return scalar(db, 'SELECT count(*) AS n FROM signal_instances WHERE expire_at > now()');
}

export interface FillOptions {
  /** Parallel sessions inserting chunks. */
  sessions: number;
  /** Extra rows, as a fraction of the live ones, that expired yesterday (for the retention pass to drop). */
  expiredFraction: number;
  progress?: (msg: string) => void;
}

export interface FillResult {
  /** Rows added that expire in the future (create time over the past retention period). */
  live: number;
  /** Rows added that expired before today's UTC midnight: the retention pass drops them. */
  expired: number;
  runs: number;
  seconds: number;
}

/**
 * Adds live signals until `target` are stored, plus expiredFraction as many already expired, over
 * FILL_NAMES names with gap-free seq ids continuing each name's counter (so later publishes number
 * after them). Live rows are created in seq order from (retention - 6 h) ago to now (the default
 * policy's retention, from signal_retention; the 6 h so none expires during the run), with
 * expire_at = create_time + retention, so they spread over the day
 * partitions of the next retention period as published rows do; expired rows have the lowest seq
 * ids of the step and expire_at in yesterday (UTC). Every row's dedupe key goes to
 * signal_instance_keys in the same statement. Then one SUCCEEDED run of `workflowId` per
 * SIGNALS_PER_RUN live signals, each with its CREATED/RUNNING/SUCCEEDED timeline and the lineage
 * edge of the bench/n0 signal that started it (some of them expired: their tombstones are kept).
 */
export async function fillSignals(db: PgDb, target: number, workflowId: string, opts: FillOptions): Promise<FillResult> {
  const t0 = performance.now();
  const live = Math.max(0, target - (await storedSignals(db)));
  const expired = Math.round(live * opts.expiredFraction);
  const total = live + expired;
  if (total === 0) return { live: 0, expired: 0, runs: 0, seconds: 0 };
  const clock = await db.query<{ now: Date; ret: string }>(`SELECT now() AS now, coalesce((SELECT seconds FROM signal_retention WHERE name = '*'), 2592000)::text AS ret`);
  const now = clock.rows[0]!.now;
  const retention = Number(clock.rows[0]!.ret);
  const midnight = startOfUtcDay(now);
  await ensureDayPartitions(db, new Date(midnight.getTime() - DAY_MS), new Date(now.getTime() + retention * 1000 + DAY_MS));

  // Each name's next seq ids, reserved at once; name k gets rows g = k, k + 100, ...
  await db.query(`INSERT INTO signal_names (name, last_seq) SELECT 'bench/n' || k, 0 FROM generate_series(0, $1::int - 1) AS k ON CONFLICT (name) DO NOTHING`, [FILL_NAMES]);
  const reserved = await db.query<{ k: number; base: string }>(
    `UPDATE signal_names s SET last_seq = s.last_seq + ($1::bigint - 1 - k) / $2::int + 1
     FROM generate_series(0, $2::int - 1) AS k WHERE s.name = 'bench/n' || k AND k < $1::bigint
     RETURNING k, (s.last_seq - (($1::bigint - 1 - k) / $2::int + 1))::text AS base`,
    [total, FILL_NAMES],
  );
  const bases: string[] = new Array<string>(FILL_NAMES).fill('0');
  for (const r of reserved.rows) bases[r.k] = r.base;

  const chunks: [number, number][] = [];
  for (let a = 0; a < total; a += CHUNK) chunks.push([a, Math.min(total, a + CHUNK)]);
  let done = 0;
  const report = (what: string) => {
    const s = (performance.now() - t0) / 1000;
    opts.progress?.(`fill: ${what} ${done}/${total} rows in ${s.toFixed(0)} s (${((s / Math.max(1, done)) * 1e6).toFixed(0)} s per million; about ${((s / Math.max(1, done)) * (total - done)).toFixed(0)} s left for the signals)`);
  };
  await runConcurrently(chunks.length, opts.sessions, async (i) => {
    const [a, b] = chunks[i]!;
    await db.query(
      `WITH rows AS (
         SELECT g, 'bench/n' || (g % $3::int) AS name, ($4::bigint[])[g % $3::int + 1] + g / $3::int + 1 AS seq,
                CASE WHEN g < $5::bigint
                  THEN $6::timestamptz - make_interval(secs => $7::bigint + 86400 - (g * 86400.0 / greatest($5::bigint, 1)))
                  ELSE $8::timestamptz - make_interval(secs => ($7::bigint - 21600) * (1 - (g - $5::bigint)::float8 / greatest($9::bigint - $5::bigint, 1)))
                END AS created
         FROM generate_series($1::bigint, $2::bigint - 1) AS g
       ), ins AS (
         INSERT INTO signal_instances (name, seq_id, instance_id, request_id, params, payload, source, create_time, expire_at)
         SELECT name, seq, 'fill-' || seq, 'fill-' || seq, jsonb_build_object('shard', 'F' || (g % 7), 'row', g),
                jsonb_build_object('note', 'scale fill'), '{"type":"REST"}'::jsonb, created, created + make_interval(secs => $7::bigint)
         FROM rows
         RETURNING name, instance_id, seq_id
       )
       INSERT INTO signal_instance_keys (name, instance_id, seq_id) SELECT name, instance_id, seq_id FROM ins`,
      [a, b, FILL_NAMES, bases, expired, midnight.toISOString(), retention, now.toISOString(), total],
    );
    done += b - a;
    report('signals');
  });
  const runs = Math.floor(live / SIGNALS_PER_RUN);
  if (runs > 0) await fillRuns(db, workflowId, runs, { seqFrom: BigInt(bases[0]!) + 1n, perName: Math.ceil(total / FILL_NAMES), sessions: opts.sessions, retention });
  return { live, expired, runs, seconds: (performance.now() - t0) / 1000 };
}

/** One partition per UTC day from `from` to `until` wherever no partition covers the day yet (the service makes them ahead of now only). */
async function ensureDayPartitions(db: PgDb, from: Date, until: Date): Promise<void> {
  const parts = (await listPartitions(db)).filter((p) => !p.isDefault && !p.forever);
  const covered = (a: number, b: number) => parts.some((p) => (p.from?.getTime() ?? -Infinity) < b && (p.to?.getTime() ?? Infinity) > a);
  for (let d = startOfUtcDay(from).getTime(); d < until.getTime(); d += DAY_MS) {
    if (covered(d, d + DAY_MS)) continue;
    const [a, b] = [new Date(d).toISOString(), new Date(d + DAY_MS).toISOString()];
    await db.exec(`CREATE TABLE IF NOT EXISTS ${dayPartitionName(new Date(d))} PARTITION OF signal_instances FOR VALUES FROM ('${a}') TO ('${b}')`);
  }
}

/**
 * `count` SUCCEEDED runs of `workflowId`, created over the past retention period in the order of
 * their instance ids (as a running service appends them: the newest runs sit together at the end
 * of the table, not scattered over it), each with its timeline (CREATED, RUNNING, SUCCEEDED) and a
 * TRIGGERED lineage edge from a bench/n0 signal of this fill step (seq ids seqFrom .. seqFrom +
 * perName - 1).
 */
async function fillRuns(db: PgDb, workflowId: string, count: number, o: { seqFrom: bigint; perName: number; sessions: number; retention: number }): Promise<void> {
  const st = await db.query<{ last: number | string }>(
    `INSERT INTO baton_workflow_state (workflow_id, last_instance_id) VALUES ($1, $2)
     ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + EXCLUDED.last_instance_id
     RETURNING last_instance_id AS last`,
    [workflowId, count],
  );
  const base = Number(st.rows[0]!.last) - count;
  const now = (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
  const step = Math.ceil(CHUNK / 5);
  const chunks: [number, number][] = [];
  for (let a = 1; a <= count; a += step) chunks.push([a, Math.min(count, a + step - 1)]);
  await runConcurrently(chunks.length, o.sessions, async (i) => {
    const [a, b] = chunks[i]!;
    await db.query(
      `WITH ins AS (
         INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator, params, created_at, started_at, ended_at, updated_at)
         SELECT $1, 1, $2::bigint + g, 1, 'SUCCEEDED', 'fill-run-' || ($2::bigint + g), jsonb_build_object('type', 'SIGNAL'), '{}'::jsonb, t, t, t + interval '5 ms', t + interval '5 ms'
         FROM (SELECT g, $8::timestamptz - make_interval(secs => $7::bigint * (1 - g::float8 / $9::bigint)) AS t FROM generate_series($3::bigint, $4::bigint) AS g) x
         RETURNING id, instance_id, created_at, ended_at
       ), timeline AS (
         INSERT INTO baton_instance_timeline (instance_pk, at, from_status, to_status, message)
         SELECT id, created_at, NULL, 'CREATED', 'created by a signal' FROM ins
         UNION ALL SELECT id, created_at, 'CREATED', 'RUNNING', 'started' FROM ins
         UNION ALL SELECT id, ended_at, 'RUNNING', 'SUCCEEDED', 'all steps succeeded' FROM ins
       )
       INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id)
       SELECT 'TRIGGERED', 'bench/n0', $5::bigint + (instance_id * 7919) % $6::bigint, $1, instance_id::text FROM ins`,
      [workflowId, base, a, b, o.seqFrom.toString(), o.perName, o.retention, now.toISOString(), count],
    );
  });
}

/**
 * VACUUM ANALYZE of the filled tables, as autovacuum would leave them (visibility map and hint bits
 * set, statistics current), in `sessions` parallel sessions: each partition of signal_instances and
 * each other table on its own, biggest first, then the partitioned parent's own statistics.
 */
export async function vacuumAnalyze(db: PgDb, sessions: number): Promise<void> {
  const tables = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relkind = 'r' AND (c.relname LIKE 'signal\\_instances\\_p%' OR c.relname IN ('signal_instance_keys', 'signal_lineage', 'baton_workflow_instances', 'baton_instance_timeline'))
     ORDER BY pg_total_relation_size(c.oid) DESC`,
  );
  const names = tables.rows.map((r) => r.name);
  await runConcurrently(names.length, sessions, (i) => db.exec(`VACUUM ANALYZE ${names[i]}`));
  await db.exec('ANALYZE signal_instances');
}

/**
 * Queues `count` CREATED instances of `workflowId` (version 1) and a dispatch job for them, as a
 * burst of starts would leave them: the run strategy begins them once an engine runs.
 */
export async function queueBacklog(db: PgDb, workflowId: string, count: number): Promise<void> {
  await db.tx(async (tx) => {
    const st = await tx.query<{ last: number | string }>(
      `INSERT INTO baton_workflow_state (workflow_id, last_instance_id) VALUES ($1, $2)
       ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + EXCLUDED.last_instance_id
       RETURNING last_instance_id AS last`,
      [workflowId, count],
    );
    const base = Number(st.rows[0]!.last) - count;
    await tx.query(
      `WITH ins AS (
         INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator)
         SELECT $1, 1, $2::bigint + g, 1, 'CREATED', 'backlog-' || ($2::bigint + g), jsonb_build_object('type', 'MANUAL')
         FROM generate_series(1, $3::int) AS g
         RETURNING id, request_id
       )
       INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message)
       SELECT id, NULL, 'CREATED', 'created by request ' || request_id FROM ins`,
      [workflowId, base, count],
    );
  });
  await db.query('ANALYZE baton_workflow_instances');
}
