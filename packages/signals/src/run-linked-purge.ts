import type { Db } from '@baton/engine-core';
import { anyRunPurged, runPurgedSql } from './tombstone-purge.js';

/** Step attempts (attempt refs) looked at per statement, and statements per table per pass at most. */
export const DEFAULT_RUN_LINKED_BATCH = 5000;
export const DEFAULT_RUN_LINKED_MAX_BATCHES = 100;

export interface RunLinkedPurgeOptions {
  batchSize?: number;
  maxBatches?: number;
  /** Where the previous call stopped, per table (its `cursors`): the walk continues after it. */
  after?: RunLinkedCursors;
}

/** The last attempt ref looked at per table; null: the walk reached the end. */
export interface RunLinkedCursors {
  waiters: string | null;
  outputs: string | null;
}

export interface RunLinkedPurgeResult {
  /** Step waiters (signal_step_waiters) of purged runs deleted, whatever their status. */
  waiters: number;
  /** Step signal output records (signal_step_outputs) of purged runs deleted. */
  outputs: number;
  cursors: RunLinkedCursors;
}

/**
 * One batch of a table keyed by attempt ref: the next `$2` attempt refs after `$1`, and the rows
 * of those whose run was purged deleted, in one statement (so a run and the rows written with it
 * are seen in one snapshot). The attempt ref is the JSON array [workflow id, instance id, step,
 * attempt] (dependencies.ts attemptRef); the waiters also have the two as columns.
 */
const WAITERS_SQL = `
WITH batch AS (
  SELECT attempt_ref, workflow_id, workflow_instance_id FROM signal_step_waiters
  WHERE $1::text IS NULL OR attempt_ref > $1::text ORDER BY attempt_ref LIMIT $2
), d AS (
  DELETE FROM signal_step_waiters w USING batch l
  WHERE w.attempt_ref = l.attempt_ref AND ${runPurgedSql('l.workflow_id', 'l.workflow_instance_id')}
  RETURNING 1
)
SELECT (SELECT count(*) FROM batch)::int AS scanned, (SELECT max(attempt_ref) FROM batch) AS last, (SELECT count(*) FROM d)::int AS removed`;

const OUTPUTS_SQL = `
WITH batch AS (
  SELECT r.attempt_ref, (r.attempt_ref::jsonb) ->> 0 AS workflow_id, (r.attempt_ref::jsonb) ->> 1 AS workflow_instance_id
  FROM (SELECT DISTINCT attempt_ref FROM signal_step_outputs WHERE $1::text IS NULL OR attempt_ref > $1::text ORDER BY attempt_ref LIMIT $2) r
), d AS (
  DELETE FROM signal_step_outputs o USING batch l
  WHERE o.attempt_ref = l.attempt_ref AND ${runPurgedSql('l.workflow_id', 'l.workflow_instance_id')}
  RETURNING 1
)
SELECT (SELECT count(*) FROM batch)::int AS scanned, (SELECT max(attempt_ref) FROM batch) AS last, (SELECT count(*) FROM d)::int AS removed`;

async function walk(db: Db, sql: string, after: string | null, batchSize: number, maxBatches: number): Promise<{ removed: number; cursor: string | null }> {
  let removed = 0;
  let cursor = after;
  for (let i = 0; i < maxBatches; i++) {
    const r = (await db.query<{ scanned: number; last: string | null; removed: number }>(sql, [cursor, batchSize])).rows[0]!;
    removed += r.removed;
    if (r.scanned < batchSize || r.last === null) return { removed, cursor: null };
    cursor = r.last;
  }
  return { removed, cursor };
}

/**
 * Deletes the signals package's per-step rows of runs that run retention purged: the step's
 * signal waiter (any status: a waiter left WAITING in an ended run would otherwise keep its
 * matched signals from being purged, forever) and the record of the signals the step emitted.
 * Nothing reads them once the run is gone (its reads answer 404). Batched deletes walked in
 * attempt-ref order by the retention pass, never on a request or engine path; nothing is read
 * before a run was ever purged.
 */
export async function purgeRunLinkedRows(db: Db, opts: RunLinkedPurgeOptions = {}): Promise<RunLinkedPurgeResult> {
  const out: RunLinkedPurgeResult = { waiters: 0, outputs: 0, cursors: { waiters: null, outputs: null } };
  if (!(await anyRunPurged(db))) return out;
  const size = opts.batchSize ?? DEFAULT_RUN_LINKED_BATCH;
  const max = opts.maxBatches ?? DEFAULT_RUN_LINKED_MAX_BATCHES;
  const w = await walk(db, WAITERS_SQL, opts.after?.waiters ?? null, size, max);
  const o = await walk(db, OUTPUTS_SQL, opts.after?.outputs ?? null, size, max);
  return { waiters: w.removed, outputs: o.removed, cursors: { waiters: w.cursor, outputs: o.cursor } };
}
