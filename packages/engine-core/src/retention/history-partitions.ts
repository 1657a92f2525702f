import type { Db, Queryable } from '../db/db.js';
import { createRangePartition, listPartitions, type Partition } from '../db/partitions.js';

/**
 * The weekly partitions of the append-only run history (migration 0310): creating them ahead,
 * and dropping the expired ones under BATON_RUN_RETENTION after moving out the rows of runs still
 * stored. Partitions are named `<table>_pYYYYMMDD` after the Monday (UTC) their week starts.
 */
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05, the first Monday of the epoch: weeks start at Monday 00:00 UTC. */
const MONDAY_MS = 4 * DAY_MS;

/** pg_advisory_xact_lock key shared by every process changing the run history's partitions. */
export const HISTORY_LOCK_KEY = 7_311_403_100;

export interface HistoryTable {
  table: string;
  /** The table whose row owns a history row (the run or the step attempt), and the column naming it. */
  owner: 'baton_workflow_instances' | 'baton_step_attempts';
  ownerColumn: 'instance_pk' | 'attempt_pk';
}

/** The partitioned run-history tables. */
export const HISTORY_TABLES: readonly HistoryTable[] = [
  { table: 'baton_instance_timeline', owner: 'baton_workflow_instances', ownerColumn: 'instance_pk' },
  { table: 'baton_step_timeline', owner: 'baton_step_attempts', ownerColumn: 'attempt_pk' },
  { table: 'baton_step_log_chunks', owner: 'baton_step_attempts', ownerColumn: 'attempt_pk' },
];

export const startOfUtcWeek = (t: Date): Date => new Date(Math.floor((t.getTime() - MONDAY_MS) / WEEK_MS) * WEEK_MS + MONDAY_MS);

export const weekPartitionName = (table: string, from: Date): string => `${table}_p${from.toISOString().slice(0, 10).replace(/-/g, '')}`;

const defaultPartition = (table: string): string => `${table}_p_default`;

/** Whether the engine's history tables are here and partitioned (a signals-only database has none). */
async function partitioned(q: Queryable, table: string): Promise<boolean> {
  const res = await q.query<{ ok: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1 AND relkind = 'p') AS ok`, [table]);
  return res.rows[0]?.ok === true;
}

export interface HistoryPartitionsOptions {
  /** The clock (tests move it); default now. */
  now?: Date;
  /** Weeks created ahead of the current one (default 2). */
  aheadWeeks?: number;
  /** How long creating or dropping waits for a table's lock before leaving it to the next pass (default 5 s). */
  lockTimeoutMs?: number;
}

export interface HistoryEnsureResult {
  created: string[];
  /** A partition was not created in time (lock timeout): the next pass goes on. */
  busy: boolean;
}

/**
 * Creates each history table's weekly partitions from the end of its newest one (or this week) to
 * `aheadWeeks` after the current week. Idempotent and safe in several processes at once. Then rows
 * in a DEFAULT partition from before this week (written while the database's clock was behind a
 * pass that dropped their week) move into this week's partition, so they are dropped with it later.
 */
export async function ensureHistoryPartitions(db: Db, opts: HistoryPartitionsOptions = {}): Promise<HistoryEnsureResult> {
  const now = opts.now ?? new Date();
  const week = startOfUtcWeek(now);
  const until = week.getTime() + ((opts.aheadWeeks ?? 2) + 1) * WEEK_MS;
  const out: HistoryEnsureResult = { created: [], busy: false };
  for (const t of HISTORY_TABLES) {
    if (!(await partitioned(db, t.table))) continue;
    const spec = { table: t.table, defaultPartition: defaultPartition(t.table), column: 'partition_at', lockKey: HISTORY_LOCK_KEY };
    const ends = (await listPartitions(db, t.table)).filter((p) => !p.isDefault && p.to !== undefined).map((p) => p.to!.getTime());
    for (let from = Math.max(week.getTime(), ...ends); from < until; from += WEEK_MS) {
      try {
        const moved = await createRangePartition(db, spec, weekPartitionName(t.table, new Date(from)), new Date(from), new Date(from + WEEK_MS), opts.lockTimeoutMs ?? 5000);
        if (moved !== undefined) out.created.push(weekPartitionName(t.table, new Date(from)));
      } catch (err) {
        if ((err as { code?: string }).code !== '55P03') throw err;
        out.busy = true;
        break;
      }
    }
    await db.query(
      `WITH d AS (DELETE FROM ${spec.defaultPartition} WHERE partition_at < $1 RETURNING *)
       INSERT INTO ${t.table} SELECT r.* FROM d, jsonb_populate_record(NULL::${t.table}, to_jsonb(d) || jsonb_build_object('partition_at', $2::timestamptz)) r`,
      [week.toISOString(), now.toISOString()],
    );
  }
  return out;
}

export interface DroppedHistoryPartition {
  table: string;
  partition: string;
  /** Rows of purged runs dropped with the partition (counted just before the drop). */
  rows: number;
  /** Rows of runs still stored, moved to the current week's partition. */
  kept: number;
}

export interface HistoryDropResult {
  dropped: DroppedHistoryPartition[];
  /** Expired partitions left for the next pass (lock not had in time, or another process at it). */
  skipped: string[];
}

/**
 * Drops every history partition whose week ended before `cutoff` (now minus the run retention).
 * Per partition, one transaction: it takes the table's lock (at most `lockTimeoutMs`, else the
 * partition is left for the next pass), moves the rows whose run or step attempt is still stored
 * to `now`'s partition (normally a few: long-running or kept runs), and drops the partition. A row
 * whose owner was purged (by purgeExpiredRuns, before) is never read again.
 */
export async function dropExpiredHistory(db: Db, cutoff: Date, opts: HistoryPartitionsOptions = {}): Promise<HistoryDropResult> {
  const now = opts.now ?? new Date();
  const out: HistoryDropResult = { dropped: [], skipped: [] };
  for (const t of HISTORY_TABLES) {
    if (!(await partitioned(db, t.table))) continue;
    for (const p of await listPartitions(db, t.table)) {
      if (p.isDefault || p.forever || p.to === undefined || p.to.getTime() > cutoff.getTime()) continue;
      const dropped = await dropOne(db, t, p, now, opts.lockTimeoutMs ?? 5000);
      if (dropped) out.dropped.push(dropped);
      else out.skipped.push(p.name);
    }
  }
  return out;
}

async function dropOne(db: Db, t: HistoryTable, p: Partition, now: Date, lockTimeoutMs: number): Promise<DroppedHistoryPartition | undefined> {
  try {
    return await db.tx(async (tx) => {
      const got = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [HISTORY_LOCK_KEY]);
      if (!got.rows[0]!.ok) return undefined;
      const present = await tx.query('SELECT 1 FROM pg_class WHERE relname = $1 AND relispartition', [p.name]);
      if (present.rows.length === 0) return undefined;
      await tx.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
      // Writers of the table finish first; until commit none can start, so no row of a stored run
      // can arrive in the partition after the move below.
      await tx.query(`LOCK TABLE ${t.table} IN ACCESS EXCLUSIVE MODE`);
      const range = [p.from?.toISOString() ?? '-infinity', p.to!.toISOString(), now.toISOString()];
      const kept = await tx.query(
        `UPDATE ${t.table} h SET partition_at = $3::timestamptz
         WHERE h.partition_at >= $1::timestamptz AND h.partition_at < $2::timestamptz
           AND EXISTS (SELECT 1 FROM ${t.owner} o WHERE o.id = h.${t.ownerColumn})`,
        range,
      );
      const rows = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${p.name}`);
      await tx.query(`DROP TABLE ${p.name}`);
      return { table: t.table, partition: p.name, rows: rows.rows[0]!.n, kept: kept.rowCount };
    });
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return undefined; // lock_timeout
    throw err;
  }
}

/** Every run-history partition with its table (for the retention status). */
export async function historyPartitions(q: Queryable): Promise<Array<Partition & { table: string }>> {
  const out: Array<Partition & { table: string }> = [];
  for (const t of HISTORY_TABLES) {
    if (!(await partitioned(q, t.table))) continue;
    for (const p of await listPartitions(q, t.table)) out.push({ ...p, table: t.table });
  }
  return out;
}
