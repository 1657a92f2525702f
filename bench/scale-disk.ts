/**
 * Disk for bench/scale.bench.ts: bytes the stored tables take, and a check up front that the
 * PostgreSQL data directory's filesystem has room for the largest size, so a long run does not
 * die midway on a full disk.
 */
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { PgDb } from '@baton/engine-core';

/**
 * Bytes on disk per stored signal, everything included (signal rows, keys, indexes, the runs and
 * lineage at one per 20 signals): measured 0.77 kB at 500k (load 19), about 1.5x for WAL and margin.
 */
export const BYTES_PER_SIGNAL = 1200;

export interface DiskBytes {
  database: number;
  /** signal_instances' partitions, signal_instance_keys, signal_lineage, signal_tombstones. */
  signals: number;
  /** The run tables. */
  runs: number;
}

/** Bytes on disk: the database, and the signal and run tables with their indexes and TOAST. */
export async function diskBytes(db: PgDb): Promise<DiskBytes> {
  const r = await db.query<{ database: string; signals: string; runs: string }>(
    `SELECT pg_database_size(current_database())::text AS database,
            (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
              WHERE c.relkind = 'r' AND (c.relname LIKE 'signal\\_instances\\_p%' OR c.relname IN ('signal_instance_keys', 'signal_lineage', 'signal_tombstones')))::text AS signals,
            (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
              WHERE c.relkind = 'r' AND c.relname IN ('baton_workflow_instances', 'baton_instance_timeline', 'baton_step_attempts', 'baton_step_timeline'))::text AS runs`,
  );
  const row = r.rows[0]!;
  return { database: Number(row.database), signals: Number(row.signals), runs: Number(row.runs) };
}

export interface DiskCheck {
  /** The data directory (or where it was looked for), its free bytes, the bytes the run needs. */
  dir: string;
  free: number | undefined;
  needed: number;
  ok: boolean;
  message: string;
}

/**
 * Free space on the data directory's filesystem (SHOW data_directory; when this process cannot
 * see it, e.g. a remote server, the check says so and passes) against BYTES_PER_SIGNAL x the
 * largest size.
 */
export async function checkDisk(db: PgDb, largest: number): Promise<DiskCheck> {
  const needed = largest * BYTES_PER_SIGNAL;
  let dir = tmpdir();
  try {
    dir = (await db.query<{ d: string }>('SELECT current_setting($1) AS d', ['data_directory'])).rows[0]!.d;
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    const ok = free >= needed;
    const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
    return { dir, free, needed, ok, message: `disk: ${gb(free)} free on the filesystem of ${dir}; ${largest} signals need about ${gb(needed)}${ok ? '' : ' (NOT ENOUGH)'}` };
  } catch (err) {
    return { dir, free: undefined, needed, ok: true, message: `disk: cannot check the free space at ${dir} (${(err as Error).message}); ${largest} signals need about ${(needed / 1e9).toFixed(1)} GB` };
  }
}
