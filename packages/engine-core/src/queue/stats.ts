import type { Queryable } from '../db/db.js';

/** The durable queue's state for one job kind, as the metrics endpoint reports it. */
export interface QueueKindStats {
  kind: string;
  /** Jobs waiting or being worked on (not given up). */
  depth: number;
  /** Jobs given up after their last attempt, kept for operators. */
  failed: number;
  /**
   * How long the oldest job that is due and unclaimed has waited past its run time, in seconds
   * (0 when none waits). Jobs scheduled for later (timers, backoff) do not count as waiting.
   */
  oldestAgeSeconds: number;
}

/** One grouped scan of `baton_jobs` (a small table: rows leave it when their work is done). */
export async function queueStats(db: Queryable): Promise<QueueKindStats[]> {
  const res = await db.query<{ kind: string; depth: number; failed: number; oldest: number | null }>(
    `SELECT kind,
            count(*) FILTER (WHERE failed_at IS NULL)::int AS depth,
            count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed,
            extract(epoch FROM now() - min(run_at) FILTER (
              WHERE failed_at IS NULL AND run_at <= now() AND (locked_until IS NULL OR locked_until < now())
            ))::float8 AS oldest
     FROM baton_jobs GROUP BY kind ORDER BY kind`,
  );
  return res.rows.map((r) => ({ kind: r.kind, depth: Number(r.depth), failed: Number(r.failed), oldestAgeSeconds: Math.max(0, Number(r.oldest ?? 0)) }));
}
