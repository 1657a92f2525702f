import type { Db, Queryable } from '@baton/engine-core';

/** Tombstones looked at per statement, and statements per pass at most (the next pass continues). */
export const DEFAULT_TOMBSTONE_BATCH = 5000;
export const DEFAULT_TOMBSTONE_MAX_BATCHES = 100;

export interface TombstonePurgeOptions {
  batchSize?: number;
  maxBatches?: number;
  /** Where the previous call stopped (its `cursor`): the walk continues after it. */
  after?: TombstoneCursor | null;
}

/** A tombstone key: the walk goes in (name, seq_id) order. */
export interface TombstoneCursor {
  name: string;
  seq: string;
}

export interface TombstonePurgeResult {
  /** Signal tombstones removed: every lineage edge of theirs pointed to a run that run retention purged. */
  removed: number;
  /** Lineage edges removed with them (purged signal → purged run: neither end is stored any more). */
  edges: number;
  /** Tombstones looked at. */
  scanned: number;
  batches: number;
  /** Where this call stopped (null: it walked to the end of the table); pass it as `after` next time. */
  cursor: TombstoneCursor | null;
}

/**
 * Whether a lineage edge's workflow end is a run that run retention purged: not stored, and either
 * its chain's tombstone is there (a top-level run or a subworkflow child), or it is a loop
 * iteration (an inline `#` workflow id, which only the engine creates and which has no tombstone
 * of its own; its edges were written in the transaction that stored or ran it, and instance ids
 * are never reused, so "not stored" means purged). An edge to a run the engine never stored (a
 * starter outside the engine) or with a non-numeric instance id counts as retained: kept forever.
 */
export function runPurgedSql(wf: string, iid: string): string {
  const id = `(CASE WHEN ${iid} ~ '^[0-9]{1,18}$' THEN ${iid}::bigint END)`;
  return `(
  ${iid} ~ '^[0-9]{1,18}$'
  AND NOT EXISTS (SELECT 1 FROM baton_workflow_instances i WHERE i.workflow_id = ${wf} AND i.instance_id = ${id})
  AND (position('#' in ${wf}) > 0
       OR EXISTS (SELECT 1 FROM baton_run_tombstones r WHERE r.workflow_id = ${wf} AND r.instance_id = ${id}))
)`;
}
const RUN_PURGED = runPurgedSql('l.workflow_id', 'l.workflow_instance_id');

/**
 * One batch, one statement: the next `$3` tombstones after ($1, $2); those with a lineage edge
 * to a run still stored (or not known to be purged) are live; the others go, with their edges.
 * Evaluated in one snapshot, so an edge and the run it was written with are seen together.
 */
const BATCH_SQL = `
WITH batch AS (
  SELECT name, seq_id FROM signal_tombstones
  WHERE $1::text IS NULL OR (name, seq_id) > ($1::text, $2::bigint)
  ORDER BY name, seq_id LIMIT $3
), live AS (
  SELECT DISTINCT b.name, b.seq_id FROM batch b
  JOIN signal_lineage l ON l.signal_name = b.name AND l.seq_id = b.seq_id
  WHERE NOT ${RUN_PURGED}
), gone AS (
  SELECT b.name, b.seq_id FROM batch b WHERE NOT EXISTS (SELECT 1 FROM live v WHERE v.name = b.name AND v.seq_id = b.seq_id)
), d_edges AS (
  DELETE FROM signal_lineage l USING gone g WHERE l.signal_name = g.name AND l.seq_id = g.seq_id RETURNING 1
), d_tombs AS (
  DELETE FROM signal_tombstones t USING gone g WHERE t.name = g.name AND t.seq_id = g.seq_id RETURNING 1
), last AS (
  SELECT name, seq_id FROM batch ORDER BY name DESC, seq_id DESC LIMIT 1
)
SELECT (SELECT count(*) FROM batch)::int AS scanned, (SELECT name FROM last) AS last_name, (SELECT seq_id::text FROM last) AS last_seq,
       (SELECT count(*) FROM d_tombs)::int AS removed, (SELECT count(*) FROM d_edges)::int AS edges`;

export async function tableExists(q: Queryable, table: string): Promise<boolean> {
  const res = await q.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  return res.rows[0]?.ok === true;
}

/** Whether run retention ever purged a run (else no row can lead to a purged run, and nothing is read). */
export async function anyRunPurged(q: Queryable): Promise<boolean> {
  if (!(await tableExists(q, 'baton_run_tombstones')) || !(await tableExists(q, 'baton_workflow_instances'))) return false;
  const res = await q.query('SELECT 1 FROM baton_run_tombstones LIMIT 1');
  return res.rows.length > 0;
}

/**
 * Removes the signal tombstones nothing retained points at any more: a tombstone stays while one
 * of its lineage edges leads to a run that is still stored (its lineage shows the tombstone), and
 * goes, with those edges, once run retention has purged every run they lead to. Batched deletes
 * in (name, seq_id) order, run by the retention pass (never on a publish or engine path); each
 * batch is one statement, so a stopped pass leaves consistent data. Without the engine's tables
 * (a signals-only store), or before any run was purged, nothing can qualify and nothing is read.
 */
export async function purgeTombstones(db: Db, opts: TombstonePurgeOptions = {}): Promise<TombstonePurgeResult> {
  const out: TombstonePurgeResult = { removed: 0, edges: 0, scanned: 0, batches: 0, cursor: null };
  if (!(await anyRunPurged(db))) return out;
  const batchSize = opts.batchSize ?? DEFAULT_TOMBSTONE_BATCH;
  const maxBatches = opts.maxBatches ?? DEFAULT_TOMBSTONE_MAX_BATCHES;
  let after = opts.after ?? null;
  while (out.batches < maxBatches) {
    const res = await db.query<{ scanned: number; last_name: string | null; last_seq: string | null; removed: number; edges: number }>(BATCH_SQL, [
      after?.name ?? null,
      after?.seq ?? null,
      batchSize,
    ]);
    const r = res.rows[0]!;
    out.batches++;
    out.scanned += r.scanned;
    out.removed += r.removed;
    out.edges += r.edges;
    // The end of the table: the next call starts from the beginning.
    if (r.scanned < batchSize || r.last_name === null) return out;
    after = { name: r.last_name, seq: r.last_seq! };
  }
  out.cursor = after;
  return out;
}

/** When the oldest stored tombstone's signal was purged (ISO-8601; by the purged_at index), null when there is none. */
export async function oldestTombstone(q: Queryable): Promise<string | null> {
  const res = await q.query<{ t: Date | string }>('SELECT purged_at AS t FROM signal_tombstones ORDER BY purged_at LIMIT 1');
  const t = res.rows[0]?.t;
  return t === undefined ? null : new Date(t).toISOString();
}
