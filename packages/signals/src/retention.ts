import type { Db, HistoryDropResult, RunPurgeResult, Queryable } from '@baton/engine-core';
import { checkDependencies, type ResolvedDependency } from './dependencies.js';
import { parseJson } from './json.js';
import { ensurePartitions, listPartitions, PARTITION_LOCK_KEY, SIGNAL_TABLE, type Partition } from './partitions.js';
import { getRetentionPolicy, longestRetentionSeconds } from './retention-policy.js';

const DAY_MS = 86_400_000;

export interface RetentionPassOptions {
  /** The clock (tests move it); default: now. Rows expire by the database's clock at publish. */
  now?: Date;
  /** How long the pass waits for the table lock before it gives up until the next pass (default 5 s). */
  lockTimeoutMs?: number;
  /** Partitions kept ready beyond the longest retention, in days (default 2). */
  aheadDays?: number;
}

export interface DroppedPartition {
  partition: string;
  /** Expired rows removed with the partition. */
  rows: number;
  /** Rows still needed (a partial join, a pending match job, a waiting step's match), moved to a later partition. */
  kept: number;
  /** Purged rows that lineage points to: their tombstones (name, seq, instance id, time). */
  tombstones: number;
}

export interface RetentionPassResult {
  created: string[];
  dropped: DroppedPartition[];
  /** Expired partitions left for the next pass (lock timeout, or another process was dropping). */
  skipped: string[];
  durationMs: number;
  /** Finished runs purged by the same pass (set by the retention loop; absent: runs are kept forever). */
  runs?: RunPurgeResult;
  /** Run-history partitions dropped by the same pass (absent: runs are kept forever). */
  history?: HistoryDropResult;
  /** Signal tombstones the same pass removed (set by the retention loop; see tombstone-purge.ts). */
  tombstones?: TombstonePassResult;
  /** Step waiters and step output records of purged runs deleted by the same pass (set by the retention loop). */
  runSignalRows?: { waiters: number; outputs: number };
}

export interface TombstonePassResult {
  /** Tombstones removed: every run their lineage led to was purged. */
  removed: number;
  /** Lineage edges removed with them (both ends purged). */
  edges: number;
  /** Tombstones looked at. */
  scanned: number;
  /** The pass stopped at its batch limit; the next one continues where it stopped. */
  more: boolean;
}

/**
 * One retention pass over signal_instances: creates the day partitions the policy needs ahead,
 * then drops every partition whose whole range has expired (see dropExpired): the rows still
 * needed move out, purged rows that lineage points to leave tombstones, their dedupe keys go, and
 * the partition is dropped whole. No row-by-row DELETE touches signal_instances.
 */
export async function runRetentionPass(db: Db, opts: RetentionPassOptions = {}): Promise<RetentionPassResult> {
  const started = Date.now();
  const now = opts.now ?? new Date();
  const policy = await getRetentionPolicy(db);
  const until = new Date(now.getTime() + longestRetentionSeconds(policy) * 1000 + (opts.aheadDays ?? 2) * DAY_MS);
  const { created } = await ensurePartitions(db, now, until, opts.lockTimeoutMs ?? 5000);
  const result: RetentionPassResult = { created, dropped: [], skipped: [], durationMs: 0 };
  for (const name of await detachedLeftovers(db)) {
    const purged = await purgeDetached(db, name, now);
    if (purged) result.dropped.push({ partition: name, kept: 0, ...purged });
  }
  for (const p of await listPartitions(db)) {
    if (p.isDefault || p.forever || p.to === undefined || p.to.getTime() > now.getTime()) continue;
    const dropped = await dropExpired(db, p, now, opts.lockTimeoutMs ?? 5000);
    if (dropped) result.dropped.push(dropped);
    else result.skipped.push(p.name);
  }
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * Two transactions, so the table is locked only while needed rows move: the first locks the
 * table, moves the rows still needed out of the partition and detaches it; the second, without
 * blocking publishers or readers, writes the tombstones, deletes the dedupe keys and drops the
 * detached table. Undefined when the lock was not had in time or another process is at it.
 */
async function dropExpired(db: Db, p: Partition, now: Date, lockTimeoutMs: number): Promise<DroppedPartition | undefined> {
  let kept: number | undefined;
  try {
    kept = await db.tx(async (tx) => {
      const got = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [PARTITION_LOCK_KEY]);
      if (!got.rows[0]!.ok) return undefined;
      const present = await tx.query('SELECT 1 FROM pg_class WHERE relname = $1 AND relispartition', [p.name]);
      if (present.rows.length === 0) return undefined;
      await tx.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      // Readers and writers of the table finish first; from here until commit none can start, so
      // no new partial join, match job or waiter can come to need a row of this partition.
      await tx.query(`LOCK TABLE ${SIGNAL_TABLE} IN ACCESS EXCLUSIVE MODE`);
      const n = await keepNeeded(tx, p, new Date(now.getTime() + DAY_MS));
      await tx.query(`ALTER TABLE ${SIGNAL_TABLE} DETACH PARTITION ${p.name}`);
      return n;
    });
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return undefined; // lock_timeout
    throw err;
  }
  if (kept === undefined) return undefined;
  const purged = await purgeDetached(db, p.name, now);
  return { partition: p.name, kept, rows: purged?.rows ?? 0, tombstones: purged?.tombstones ?? 0 };
}

/** Day partitions detached by a pass that stopped before dropping them (a crash): finished first. */
async function detachedLeftovers(q: Queryable): Promise<string[]> {
  const res = await q.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND NOT relispartition AND relname LIKE $1 ORDER BY relname`,
    [`${SIGNAL_TABLE.replace(/_/g, '\\_')}\\_p%`],
  );
  // Only the names Baton gives its partitions: never another table that happens to share the prefix.
  return res.rows.map((r) => r.name).filter((n) => /^signal_instances_p(\d{8}|_legacy)$/.test(n));
}

/**
 * Tombstones for the detached partition's instances that lineage points to, then their dedupe keys
 * and trigger consumptions deleted (joins with it: the row-by-row deletes, off the publish path)
 * and the table dropped.
 */
async function purgeDetached(db: Db, name: string, now: Date): Promise<{ rows: number; tombstones: number } | undefined> {
  return db.tx(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
    const present = await tx.query(`SELECT 1 FROM pg_class WHERE relname = $1 AND relkind = 'r' AND NOT relispartition`, [name]);
    if (present.rows.length === 0) return undefined;
    const tomb = await tx.query(
      `INSERT INTO signal_tombstones (name, seq_id, instance_id, create_time, purged_at)
       SELECT s.name, s.seq_id, s.instance_id, s.create_time, $1::timestamptz FROM ${name} s
       WHERE EXISTS (SELECT 1 FROM signal_lineage l WHERE l.signal_name = s.name AND l.seq_id = s.seq_id)
       ON CONFLICT (name, seq_id) DO NOTHING`,
      [now.toISOString()],
    );
    const keys = await tx.query(`DELETE FROM signal_instance_keys k USING ${name} s WHERE k.name = s.name AND k.instance_id = s.instance_id`);
    // Which triggers the instances fed: only read while an instance is stored (the firing keeps its own copy).
    await tx.query(`DELETE FROM signal_trigger_consumptions c USING ${name} s WHERE c.signal_name = s.name AND c.seq_id = s.seq_id`);
    await tx.query(`DROP TABLE ${name}`);
    return { rows: keys.rowCount, tombstones: tomb.rowCount };
  });
}

/**
 * Moves the rows of `p` that something still needs to a later partition (expire_at = keepUntil;
 * the next pass checks them again): instances in a partial join (signal_trigger_candidates), in a
 * match job not yet processed (signal_match_queue ranges), and each waiting step's latest match
 * per dependency (what it would read when its other dependencies arrive). A run's consumed
 * signals are copied into its firing or waiter row, so a run needs no instance row beyond these.
 */
async function keepNeeded(tx: Queryable, p: Partition, keepUntil: Date): Promise<number> {
  const range = [p.from?.toISOString() ?? '-infinity', p.to!.toISOString(), keepUntil.toISOString()];
  const inRange = 's.expire_at >= $1::timestamptz AND s.expire_at < $2::timestamptz';
  const fromCandidates = await tx.query(
    `UPDATE ${SIGNAL_TABLE} s SET expire_at = $3::timestamptz FROM (SELECT DISTINCT signal_name, seq_id FROM signal_trigger_candidates) c
     WHERE s.name = c.signal_name AND s.seq_id = c.seq_id AND ${inRange}`,
    range,
  );
  const fromQueue = await tx.query(
    `UPDATE ${SIGNAL_TABLE} s SET expire_at = $3::timestamptz FROM signal_match_queue q
     WHERE s.name = q.name AND s.seq_id BETWEEN q.seq_id AND coalesce(q.seq_to, q.seq_id) AND ${inRange}`,
    range,
  );
  // The queue and candidate rows that named the partition key of the moved rows no longer do:
  // NULL makes the matcher look them up in every partition (migration 0370).
  await tx.query(`UPDATE signal_match_queue SET expire_at = NULL WHERE expire_at >= $1::timestamptz AND expire_at < $2::timestamptz`, range.slice(0, 2));
  await tx.query(`UPDATE signal_trigger_candidates SET signal_expire_at = NULL WHERE signal_expire_at >= $1::timestamptz AND signal_expire_at < $2::timestamptz`, range.slice(0, 2));
  const waiters = await tx.query<{ dependencies: string }>(`SELECT dependencies::text AS dependencies FROM signal_step_waiters WHERE status = 'WAITING'`);
  const matched: { n: string; s: string }[] = [];
  for (const w of waiters.rows) {
    const check = await checkDependencies(tx, parseJson(w.dependencies) as unknown as ResolvedDependency[]);
    for (const m of check.matched) if (m) matched.push({ n: m.name, s: m.seq_id.toString() });
  }
  let fromWaiters = 0;
  if (matched.length > 0) {
    const res = await tx.query(
      `UPDATE ${SIGNAL_TABLE} s SET expire_at = $3::timestamptz FROM (SELECT DISTINCT n, s FROM jsonb_to_recordset($4::jsonb) AS x(n text, s bigint)) w
       WHERE s.name = w.n AND s.seq_id = w.s AND ${inRange}`,
      [...range, JSON.stringify(matched)],
    );
    fromWaiters = res.rowCount;
  }
  return fromCandidates.rowCount + fromQueue.rowCount + fromWaiters;
}
