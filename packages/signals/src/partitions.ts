import type { Db, Queryable } from '@baton/engine-core';

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

export interface Partition {
  name: string;
  /** Range bounds; `from` undefined: MINVALUE. Undefined both: the DEFAULT or the forever partition. */
  from?: Date;
  to?: Date;
  isDefault: boolean;
  /** FROM ('infinity'): rows kept forever. */
  forever: boolean;
}

/** The partitions of a partitioned table with their bounds, oldest first, the DEFAULT last. */
export async function listPartitions(q: Queryable, table = SIGNAL_TABLE): Promise<Partition[]> {
  const res = await q.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1)`,
    [table],
  );
  const out = res.rows.map((r) => parseBound(r.name, r.bound));
  return out.sort((a, b) => rank(a) - rank(b));
}

function rank(p: Partition): number {
  if (p.isDefault) return Number.POSITIVE_INFINITY;
  if (p.forever) return Number.MAX_VALUE;
  return p.to?.getTime() ?? Number.NEGATIVE_INFINITY;
}

/** `FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-01-02 00:00:00+00')`, MINVALUE, or DEFAULT. */
export function parseBound(name: string, bound: string): Partition {
  if (/^DEFAULT$/i.test(bound.trim())) return { name, isDefault: true, forever: false };
  const m = /FROM \((.+)\) TO \((.+)\)$/.exec(bound.trim());
  if (!m) throw new Error(`unexpected partition bound of ${name}: ${bound}`);
  if (/^'infinity'$/i.test(m[1]!)) return { name, isDefault: false, forever: true };
  const time = (v: string): Date | undefined => (/^MINVALUE$|^MAXVALUE$/i.test(v) ? undefined : new Date(pgTime(v.replace(/^'|'$/g, ''))));
  return { name, from: time(m[1]!), to: time(m[2]!), isDefault: false, forever: false };
}

/** PostgreSQL's `2026-01-01 00:00:00+00` (the session's time zone decides the offset) as ISO. */
function pgTime(v: string): string {
  const iso = v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  if (Number.isNaN(Date.parse(iso))) throw new Error(`unexpected partition bound time ${v}`);
  return iso;
}

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

/**
 * One day's partition; undefined when it exists already. Rows that landed in the DEFAULT
 * partition for that day (no partition existed when they were published) move into it first:
 * attaching checks that the DEFAULT partition holds none of the new range.
 */
async function createDayPartition(db: Db, from: Date, to: Date, lockTimeoutMs: number): Promise<number | undefined> {
  const name = dayPartitionName(from);
  return db.tx(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
    // Creating a partition locks the table: never queue every reader behind a long query.
    await tx.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    const exists = await tx.query('SELECT 1 FROM pg_class WHERE relname = $1', [name]);
    if (exists.rows.length > 0) return undefined;
    const range = [from.toISOString(), to.toISOString()];
    const stray = await tx.query(`SELECT 1 FROM ${DEFAULT_PARTITION} WHERE expire_at >= $1 AND expire_at < $2 LIMIT 1`, range);
    if (stray.rows.length === 0) {
      await tx.query(`CREATE TABLE ${name} PARTITION OF ${SIGNAL_TABLE} FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')`);
      return 0;
    }
    await tx.query(`LOCK TABLE ${SIGNAL_TABLE} IN ACCESS EXCLUSIVE MODE`);
    await tx.query(`CREATE TABLE ${name} (LIKE ${SIGNAL_TABLE} INCLUDING DEFAULTS)`);
    const moved = await tx.query(
      `WITH d AS (DELETE FROM ${DEFAULT_PARTITION} WHERE expire_at >= $1 AND expire_at < $2 RETURNING *)
       INSERT INTO ${name} SELECT * FROM d`,
      range,
    );
    await tx.query(`ALTER TABLE ${SIGNAL_TABLE} ATTACH PARTITION ${name} FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')`);
    return moved.rowCount;
  });
}
