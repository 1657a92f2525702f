import type { Db } from '../db/db.js';

/** Instance statuses after which a run does nothing more on its own. */
export const TERMINAL_INSTANCE_STATUSES = ['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'] as const;

/** Top-level instance chains examined per batch (each batch is one DELETE statement). */
export const DEFAULT_RUN_PURGE_BATCH = 200;
/** Batches per pass at most, so one pass stays bounded; the next pass continues. */
export const DEFAULT_RUN_PURGE_MAX_BATCHES = 50;

export interface RunPurgeOptions {
  /** Runs that ended before this are expired. */
  cutoff: Date;
  /** Stamped on the tombstones (the pass's clock). */
  now: Date;
  batchSize?: number;
  maxBatches?: number;
}

export interface RunPurgeResult {
  /** Instance rows deleted (every run of the chains, their subworkflow children and loop iterations). */
  runs: number;
  /** Instance chains (workflow id, instance id; iterations not counted) that left a tombstone. */
  tombstones: number;
  /** Step attempts deleted. */
  attempts: number;
  /** Expired top-level chains kept because something in their family is still open or queued. */
  kept: number;
  batches: number;
  /** true when the pass stopped at maxBatches with candidates left. */
  more: boolean;
}

/**
 * Deletes expired finished runs. The unit is a top-level instance chain (every run of one
 * workflow id and instance id that no step started) with its whole family: the subworkflow
 * children and loop iterations of every run, recursively, including their restarts. A family goes
 * only when every run in it is terminal and ended before the cutoff, no job is queued for any of
 * its runs or attempts, and it is not the failed instance blocking a STRICT_SEQUENTIAL workflow; an
 * open child keeps its parent and an open parent keeps its children. Runs are walked oldest end
 * first, `batchSize` chains at a time; each batch is one statement (checks, deletes in every run
 * table, and a tombstone per purged chain) run outside any request. The append-only history
 * (instance and step timelines, log chunks) is not deleted here: it is partitioned by week and
 * goes with its partition (history-partitions.ts, dropExpiredHistory), unseen until then.
 */
export async function purgeExpiredRuns(db: Db, opts: RunPurgeOptions): Promise<RunPurgeResult> {
  const batchSize = opts.batchSize ?? DEFAULT_RUN_PURGE_BATCH;
  const maxBatches = opts.maxBatches ?? DEFAULT_RUN_PURGE_MAX_BATCHES;
  const out: RunPurgeResult = { runs: 0, tombstones: 0, attempts: 0, kept: 0, batches: 0, more: false };
  // The cursor keeps the end time as the database's text: a JS Date would drop its microseconds.
  let cursor: { at: string; id: string } | undefined;
  while (out.batches < maxBatches) {
    // (Not `id::text AS id`: ORDER BY id would then sort the text.)
    const page = await db.query<{ pk: string; workflow_id: string; instance_id: string; at: string }>(
      `SELECT id::text AS pk, workflow_id, instance_id::text AS instance_id, ended_at::text AS at FROM baton_workflow_instances
       WHERE parent_attempt_pk IS NULL AND ended_at < $1 ${cursor ? 'AND (ended_at, id) > ($3::timestamptz, $4::bigint)' : ''}
       ORDER BY ended_at, id LIMIT $2`,
      cursor ? [opts.cutoff, batchSize, cursor.at, cursor.id] : [opts.cutoff, batchSize],
    );
    if (page.rows.length === 0) return out;
    const last = page.rows[page.rows.length - 1]!;
    cursor = { at: last.at, id: last.pk };
    const chains = new Map<string, { w: string; i: string }>();
    for (const r of page.rows) chains.set(`${r.workflow_id}\u0000${r.instance_id}`, { w: r.workflow_id, i: r.instance_id });
    const keys = [...chains.values()];
    const res = await db.query<{ runs: number; tombstones: number; attempts: number; purged_chains: number }>(PURGE_SQL, [
      keys.map((k) => k.w),
      keys.map((k) => k.i),
      opts.cutoff,
      [...TERMINAL_INSTANCE_STATUSES],
      opts.now,
    ]);
    const r = res.rows[0]!;
    out.runs += Number(r.runs);
    out.tombstones += Number(r.tombstones);
    out.attempts += Number(r.attempts);
    out.kept += keys.length - Number(r.purged_chains);
    out.batches++;
  }
  out.more = true;
  return out;
}

/**
 * One batch: $1/$2 the candidate chains (workflow ids, instance ids), $3 the cutoff, $4 the
 * terminal statuses, $5 the purge time. Row-level FK checks run at the end of the statement, so
 * the deletes of instances and attempts (which reference each other) can go together.
 */
const PURGE_SQL = `
WITH RECURSIVE roots AS (
  SELECT k.w AS workflow_id, k.i AS instance_id FROM unnest($1::text[], $2::bigint[]) AS k(w, i)
  WHERE NOT EXISTS (SELECT 1 FROM baton_workflow_state s WHERE s.workflow_id = k.w AND s.blocked_by_instance = k.i)
), fam AS (
  SELECT i.id, r.workflow_id AS root_wf, r.instance_id AS root_iid
  FROM roots r JOIN baton_workflow_instances i ON i.workflow_id = r.workflow_id AND i.instance_id = r.instance_id AND i.parent_attempt_pk IS NULL
  UNION ALL
  SELECT c.id, f.root_wf, f.root_iid
  FROM fam f JOIN baton_step_attempts a ON a.instance_pk = f.id JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
), members AS (
  SELECT f.root_wf, f.root_iid, i.id, i.workflow_id, i.instance_id, i.run_id, i.status, i.created_at, i.ended_at
  FROM fam f JOIN baton_workflow_instances i ON i.id = f.id
), atts AS (
  SELECT a.id, m.root_wf, m.root_iid FROM members m JOIN baton_step_attempts a ON a.instance_pk = m.id
), blocked AS (
  SELECT root_wf, root_iid FROM members WHERE status <> ALL ($4::text[]) OR ended_at IS NULL OR ended_at >= $3
  UNION
  SELECT m.root_wf, m.root_iid FROM members m JOIN baton_jobs j ON j.payload ->> 'instancePk' = m.id::text
  UNION
  SELECT t.root_wf, t.root_iid FROM atts t JOIN baton_jobs j ON j.payload ->> 'attemptPk' = t.id::text
), gone_i AS (
  SELECT m.* FROM members m WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.root_wf = m.root_wf AND b.root_iid = m.root_iid)
), gone_a AS (
  SELECT t.id FROM atts t WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.root_wf = t.root_wf AND b.root_iid = t.root_iid)
), d_logs AS (
  DELETE FROM baton_step_logs WHERE attempt_pk IN (SELECT id FROM gone_a) RETURNING 1
), d_http AS (
  DELETE FROM baton_step_http_responses WHERE attempt_pk IN (SELECT id FROM gone_a) RETURNING 1
), d_pauses AS (
  DELETE FROM baton_step_pauses WHERE attempt_pk IN (SELECT id FROM gone_a) RETURNING 1
), d_loops AS (
  DELETE FROM baton_loop_state WHERE attempt_pk IN (SELECT id FROM gone_a) RETURNING 1
), d_attempts AS (
  DELETE FROM baton_step_attempts WHERE id IN (SELECT id FROM gone_a) RETURNING 1
), d_instances AS (
  DELETE FROM baton_workflow_instances WHERE id IN (SELECT id FROM gone_i) RETURNING 1
), tombs AS (
  INSERT INTO baton_run_tombstones (workflow_id, instance_id, runs, last_run_id, status, created_at, ended_at, purged_at)
  SELECT workflow_id, instance_id, count(*)::int, max(run_id), (array_agg(status ORDER BY run_id DESC))[1], min(created_at), max(ended_at), $5
  FROM gone_i WHERE position('#' in workflow_id) = 0
  GROUP BY workflow_id, instance_id
  ON CONFLICT (workflow_id, instance_id) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM d_instances)::int AS runs, (SELECT count(*) FROM tombs)::int AS tombstones,
       (SELECT count(*) FROM d_attempts)::int AS attempts,
       (SELECT count(DISTINCT (root_wf, root_iid)) FROM gone_i)::int AS purged_chains`;
