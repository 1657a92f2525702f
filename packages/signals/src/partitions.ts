import { createRangePartition, listPartitions as listTablePartitions, type Db, type Partition, type Queryable } from '@baton/engine-core';

/**
 * The daily partitions of signal_instances (partitioned by RANGE (expire_at), migration 0200):
 * listing them and creating them ahead. Day partitions are named `signal_instances_pYYYYMMDD`
 * after the UTC day their range starts; the first one (`signal_instances_p_legacy`, the table as
 * it was before partitioning) starts at MINVALUE; `signal_instances_p_default` holds rows kept
 * forever and catches any row whose day has no partition yet.
 */
export const SIGNAL_TABLE = 'signal_instances';
export const DEFAULT_PARTITION = 'signal_instances_p_default';
const DAY_MS = 86_400_000;

export type { Partition } from '@baton/engine-core';

/** The partitions of signal_instances (or another partitioned table) with their bounds, oldest first, the DEFAULT last. */
export const listPartitions = (q: Queryable, table: string = SIGNAL_TABLE): Promise<Partition[]> => listTablePartitions(q, table);

export const startOfUtcDay = (t: Date): Date => new Date(Math.floor(t.getTime() / DAY_MS) * DAY_MS);

export function dayPartitionName(from: Date): string {
  return `${SIGNAL_TABLE}_p${from.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

export interface EnsureResult {
  created: string[];
  /** Rows moved out of the DEFAULT partition into a newly created one. */
  rescued: number;
  /** A partition was not created because the table's lock was not had in time (next pass). */
  busy: boolean;
}

/**
 * Creates one partition per UTC day from the end of the newest one (or today) until `until`, so
 * a row expiring before `until` finds its partition. Idempotent: several processes may run it
 * (each day is created in its own transaction under an advisory lock, and skipped when present).
 */
export async function ensurePartitions(db: Db, now: Date, until: Date, lockTimeoutMs = 5000): Promise<EnsureResult> {
  const result: EnsureResult = { created: [], rescued: 0, busy: false };
  const parts = await listPartitions(db);
  const newest = parts.filter((p) => !p.isDefault && p.to !== undefined).map((p) => p.to!.getTime());
  let from = new Date(Math.max(startOfUtcDay(now).getTime(), ...newest));
  for (const day of await strayDays(db, parts, from)) {
    try {
      if ((await createDayPartition(db, day, new Date(day.getTime() + DAY_MS), lockTimeoutMs)) !== undefined) result.created.push(dayPartitionName(day));
    } catch (err) {
      if ((err as { code?: string }).code !== '55P03') throw err;
      result.busy = true;
    }
  }
  while (from.getTime() < until.getTime()) {
    const to = new Date(from.getTime() + DAY_MS);
    let rescued: number | undefined;
    try {
      rescued = await createDayPartition(db, from, to, lockTimeoutMs);
    } catch (err) {
      if ((err as { code?: string }).code !== '55P03') throw err;
      // The table stayed busy (a long query): the next pass goes on from here.
      result.busy = true;
      break;
    }
    if (rescued !== undefined) {
      result.created.push(dayPartitionName(from));
      result.rescued += rescued;
    }
    from = to;
  }
  return result;
}

/**
 * Days before `before` whose rows sit in the DEFAULT partition with no partition of their own: a
 * pass whose clock ran ahead of the database's (clock skew, or the test clock offset) dropped the
 * day while publishers still stored rows expiring in it. Their partition is created again (and
 * dropped by a pass once expired) instead of the rows staying in the DEFAULT partition for good.
 */
async function strayDays(q: Queryable, parts: Partition[], before: Date): Promise<Date[]> {
  const res = await q.query<{ day: Date }>(
    `SELECT DISTINCT date_trunc('day', expire_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day FROM ${DEFAULT_PARTITION}
     WHERE expire_at < $1::timestamptz AND expire_at > '-infinity' ORDER BY 1`,
    [before.toISOString()],
  );
  const overlaps = (from: number, to: number): boolean =>
    parts.some((p) => !p.isDefault && !p.forever && (p.from?.getTime() ?? Number.NEGATIVE_INFINITY) < to && (p.to?.getTime() ?? Number.POSITIVE_INFINITY) > from);
  return res.rows.map((r) => new Date(r.day)).filter((d) => !overlaps(d.getTime(), d.getTime() + DAY_MS));
}

// pg_advisory_xact_lock key shared by every process changing signal_instances' partitions.
export const PARTITION_LOCK_KEY = 7_311_402_200;

/** One day's partition; undefined when it exists already (see createRangePartition: rows of the day in the DEFAULT partition move into it). */
function createDayPartition(db: Db, from: Date, to: Date, lockTimeoutMs: number): Promise<number | undefined> {
  const spec = { table: SIGNAL_TABLE, defaultPartition: DEFAULT_PARTITION, column: 'expire_at', lockKey: PARTITION_LOCK_KEY };
  return createRangePartition(db, spec, dayPartitionName(from), from, to, lockTimeoutMs);
}
