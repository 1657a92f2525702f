import type { Db, Queryable } from './db.js';

/**
 * Declarative range partitions of a table partitioned by one timestamptz column: listing them
 * and creating one (shared by the signal instances, partitioned by expiry day, and the run
 * history, partitioned by insert week). The same SQL runs on PostgreSQL and PGlite.
 */
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
export async function listPartitions(q: Queryable, table: string): Promise<Partition[]> {
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

export interface RangePartitionSpec {
  /** The partitioned table, its DEFAULT partition and its partition key column. */
  table: string;
  defaultPartition: string;
  column: string;
  /** pg_advisory_xact_lock key shared by every process changing this table's partitions. */
  lockKey: number;
}

/**
 * Creates partition `name` for [from, to); undefined when it exists already. Rows that landed in
 * the DEFAULT partition for that range (no partition existed when they were written) move into it
 * first: attaching checks that the DEFAULT partition holds none of the new range. Creating a
 * partition locks the table, so it waits at most `lockTimeoutMs` (else fails with 55P03).
 * Returns the rows moved out of the DEFAULT partition.
 */
export async function createRangePartition(db: Db, spec: RangePartitionSpec, name: string, from: Date, to: Date, lockTimeoutMs: number): Promise<number | undefined> {
  const { table, defaultPartition, column } = spec;
  return db.tx(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [spec.lockKey]);
    // Creating a partition locks the table: never queue every reader behind a long query.
    await tx.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    const exists = await tx.query('SELECT 1 FROM pg_class WHERE relname = $1', [name]);
    if (exists.rows.length > 0) return undefined;
    const range = [from.toISOString(), to.toISOString()];
    const stray = await tx.query(`SELECT 1 FROM ${defaultPartition} WHERE ${column} >= $1 AND ${column} < $2 LIMIT 1`, range);
    if (stray.rows.length === 0) {
      await tx.query(`CREATE TABLE ${name} PARTITION OF ${table} FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')`);
      return 0;
    }
    await tx.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    await tx.query(`CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS)`);
    const moved = await tx.query(
      `WITH d AS (DELETE FROM ${defaultPartition} WHERE ${column} >= $1 AND ${column} < $2 RETURNING *)
       INSERT INTO ${name} SELECT * FROM d`,
      range,
    );
    await tx.query(`ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')`);
    return moved.rowCount;
  });
}
