import { historyPartitions, oldestRetainedRun, RUN_TABLES, type Queryable } from '@baton/engine-core';
import { listPartitions, SIGNAL_TABLE, type Partition } from './partitions.js';
import { getRetentionPolicy, type RetentionPolicy } from './retention-policy.js';
import { oldestTombstone } from './tombstone-purge.js';

/** The signals tables whose size the status and the metrics report. */
export const SIGNAL_TABLES = [
  SIGNAL_TABLE,
  'signal_instance_keys',
  'signal_tombstones',
  'signal_lineage',
  'signal_trigger_firings',
  'signal_trigger_consumptions',
  'signal_trigger_candidates',
  'signal_match_queue',
  'signal_outbox',
  'signal_step_waiters',
  'signal_step_outputs',
] as const;

export interface TableSize {
  table: string;
  /** Rows: the planner's estimate once the table was analysed, else counted. */
  rows: number;
  /** On disk, with indexes and TOAST (for a partitioned table, the sum of its partitions). */
  bytes: number;
}

export interface PartitionStatus {
  name: string;
  /** ISO-8601; null: MINVALUE, or the DEFAULT or forever partition. */
  from: string | null;
  to: string | null;
  isDefault: boolean;
  forever: boolean;
  rows: number;
  bytes: number;
}

export interface RetentionStatus {
  policy: RetentionPolicy;
  partitions: PartitionStatus[];
  tables: TableSize[];
  /** Create time of the oldest stored signal instance (ISO-8601), null when there is none. */
  oldestRetained: string | null;
  /** When the oldest partition expires and the next pass may drop it (ISO-8601). */
  nextExpiry: string | null;
  /** Finished-run history (engine-core's tables; purged by BATON_RUN_RETENTION). */
  runs: RunRetentionStatus;
  /** Signal tombstones: how many (like `tables`, an estimate once analysed) and the oldest one's purge time (ISO-8601). */
  tombstones: { rows: number; oldestPurgedAt: string | null };
}

export interface RunRetentionStatus {
  tables: TableSize[];
  /** The weekly partitions of the run-history tables (timelines, log chunks), per table oldest first. */
  partitions: Array<PartitionStatus & { table: string }>;
  /** End time of the oldest stored finished top-level run (ISO-8601), null when there is none. */
  oldestRetained: string | null;
}

/** Below this size a table never analysed is counted; above, the statistics' live row count is used. */
const COUNT_BELOW_BYTES = 16 * 1024 * 1024;

/** Rows and bytes of one relation, or the sum over a partitioned table's partitions. */
async function relationSize(q: Queryable, table: string): Promise<TableSize> {
  const res = await q.query<{ name: string; reltuples: number; live: number | string | null; heap: number | string; bytes: number | string }>(
    `SELECT c.relname AS name, c.reltuples::float8 AS reltuples, s.n_live_tup AS live, pg_relation_size(c.oid)::bigint AS heap,
            pg_total_relation_size(c.oid)::bigint AS bytes
     FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE c.relkind = 'r' AND (c.oid = to_regclass($1) OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass($1)))`,
    [table],
  );
  let rows = 0;
  let bytes = 0;
  for (const r of res.rows) {
    bytes += Number(r.bytes);
    if (r.reltuples >= 0) rows += Math.round(r.reltuples);
    else if (Number(r.heap) < COUNT_BELOW_BYTES) rows += await countRows(q, r.name);
    else rows += Number(r.live ?? 0);
  }
  return { table, rows, bytes };
}

/** Never analysed and small: count it. Names come from pg_class, quoted here. */
async function countRows(q: Queryable, relname: string): Promise<number> {
  const res = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${relname.replace(/"/g, '""')}"`);
  return res.rows[0]!.n;
}

/** Rows and bytes per signals table (cheap: catalog estimates; for the metrics endpoint). */
export async function signalTableSizes(q: Queryable): Promise<TableSize[]> {
  const out: TableSize[] = [];
  for (const t of SIGNAL_TABLES) out.push(await relationSize(q, t));
  return out;
}

/** Rows and bytes per run-history table (engine-core's), for the status and the metrics. */
export async function runTableSizes(q: Queryable): Promise<TableSize[]> {
  const out: TableSize[] = [];
  for (const t of RUN_TABLES) out.push(await relationSize(q, t));
  return out;
}

/** Create time of the oldest stored instance: per name, the first entry of the (name, create_time) index. */
export async function oldestRetainedSignal(q: Queryable): Promise<Date | null> {
  const res = await q.query<{ t: Date | string | null }>(
    `SELECT min(x.t) AS t FROM signal_names n
     CROSS JOIN LATERAL (SELECT i.create_time AS t FROM ${SIGNAL_TABLE} i WHERE i.name = n.name ORDER BY i.create_time LIMIT 1) x`,
  );
  const t = res.rows[0]?.t;
  return t === null || t === undefined ? null : new Date(t);
}

function partitionStatus(p: Partition, size: TableSize): PartitionStatus {
  return { name: p.name, from: p.from?.toISOString() ?? null, to: p.to?.toISOString() ?? null, isDefault: p.isDefault, forever: p.forever, rows: size.rows, bytes: size.bytes };
}

export async function retentionStatus(q: Queryable): Promise<RetentionStatus> {
  const partitions: PartitionStatus[] = [];
  for (const p of await listPartitions(q)) {
    partitions.push(partitionStatus(p, await relationSize(q, p.name)));
  }
  const runPartitions: RunRetentionStatus['partitions'] = [];
  for (const p of await historyPartitions(q)) {
    const size = await relationSize(q, p.name);
    runPartitions.push({ table: p.table, ...partitionStatus(p, size) });
  }
  const oldest = await oldestRetainedSignal(q);
  const tables = await signalTableSizes(q);
  const firstEnd = partitions.find((p) => !p.isDefault && p.to !== null && p.rows > 0)?.to ?? null;
  return {
    policy: await getRetentionPolicy(q),
    partitions,
    tables,
    oldestRetained: oldest ? oldest.toISOString() : null,
    nextExpiry: firstEnd,
    runs: { tables: await runTableSizes(q), partitions: runPartitions, oldestRetained: await oldestRetainedRun(q) },
    tombstones: { rows: tables.find((t) => t.table === 'signal_tombstones')?.rows ?? 0, oldestPurgedAt: await oldestTombstone(q) },
  };
}
