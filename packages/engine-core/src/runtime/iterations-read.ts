import type { Db } from '../db/db.js';
import type { InstanceStatus } from './status.js';

/** Most iterations one page of the iteration list holds. */
export const ITERATION_PAGE_MAX = 500;
export const ITERATION_PAGE_DEFAULT = 50;

/** One iteration of a foreach (or while) step: a child instance of an inline workflow. */
export interface IterationSummary {
  /** 0-based index in the loop. */
  iteration: number;
  /** The inline workflow the iteration is an instance of (`<workflow>#<loop step>`). */
  workflowId: string;
  instanceId: number;
  runId: number;
  status: InstanceStatus;
  reason: string | null;
  /** The iteration's loop variables (a foreach's `loop_params`), null for a while step. */
  loopParams: Record<string, unknown> | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  /** The run of the parent instance that ran this iteration: lower than the run asked for when it was carried over by a restart. */
  fromRunId: number;
}

export interface IterationTally {
  total: number;
  launched: number;
  succeeded: number;
  failed: number;
  stopped: number;
}

export interface IterationPage {
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  stepType: string;
  /** The loop's counters (null before the loop started its iterations). */
  tally: IterationTally | null;
  items: IterationSummary[];
  /** Pass as `after` for the next page; absent on the last page. */
  nextAfter?: number;
}

export interface IterationQuery {
  runId?: number;
  /** Iterations with a higher index than this (keyset paging). */
  after?: number;
  limit?: number;
  status?: InstanceStatus;
}

/** Why iterations cannot be listed: no such run or step attempt, or the step is not a loop. */
export class IterationReadError extends Error {
  constructor(
    readonly code: 'not_found' | 'not_a_loop',
    message: string,
  ) {
    super(message);
    this.name = 'IterationReadError';
  }
}

const dn = (v: unknown): Date | null => (v == null ? null : new Date(v as string));

/**
 * A page of a loop step's iterations, in index order. A restarted run re-runs only the iterations
 * that did not succeed, so the list takes each index from the newest run (up to the one asked for)
 * whose attempt of the step ran it: the iterations a restart carried over show with their earlier
 * run (`fromRunId`). Keyset-paged by index, so a loop of any size pages in constant time.
 */
export async function listIterations(db: Db, workflowId: string, instanceId: number, stepId: string, q: IterationQuery = {}): Promise<IterationPage> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? ITERATION_PAGE_DEFAULT), 1), ITERATION_PAGE_MAX);
  // The step's latest attempt in each run up to the one asked for, newest run first.
  const chain = await db.query<{ attempt_pk: number; run_id: number; attempt_id: number; step_type: string | null; total: number | null; launched: number | null; succeeded: number | null; failed: number | null; stopped: number | null }>(
    `WITH top AS (
       SELECT max(run_id) AS run_id FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 AND ($3::int IS NULL OR run_id <= $3)
     )
     SELECT DISTINCT ON (i.run_id) a.id AS attempt_pk, i.run_id, a.attempt_id, a.step_type, s.total, s.launched, s.succeeded, s.failed, s.stopped
     FROM baton_workflow_instances i JOIN top ON i.run_id <= top.run_id
       JOIN baton_step_attempts a ON a.instance_pk = i.id AND a.step_id = $4
       LEFT JOIN baton_loop_state s ON s.attempt_pk = a.id
     WHERE i.workflow_id = $1 AND i.instance_id = $2
     ORDER BY i.run_id DESC, a.attempt_id DESC`,
    [workflowId, instanceId, q.runId ?? null, stepId],
  );
  const head = chain.rows[0];
  if (!head) throw new IterationReadError('not_found', `step ${stepId} of ${workflowId} instance ${instanceId}${q.runId === undefined ? '' : ` run ${q.runId}`} has no attempt`);
  if (head.step_type !== 'foreach' && head.step_type !== 'while') {
    throw new IterationReadError('not_a_loop', `step ${stepId} of ${workflowId} is a ${head.step_type ?? 'plain'} step, not a foreach or while loop: it has no iterations`);
  }
  const counted = chain.rows.find((r) => r.total !== null);
  const tally: IterationTally | null = counted
    ? { total: Number(counted.total), launched: Number(counted.launched), succeeded: Number(counted.succeeded), failed: Number(counted.failed), stopped: Number(counted.stopped) }
    : null;
  const rows = await db.query<{
    iteration: string | number; workflow_id: string; instance_id: string | number; run_id: number; status: InstanceStatus; reason: string | null;
    loop_params: Record<string, unknown> | null; created_at: unknown; started_at: unknown; ended_at: unknown; from_run: number;
  }>(
    // Each attempt's first `limit` iterations past the cursor (an index scan that stops early),
    // then the newest run's row for each index. With a status filter, a candidate is a row with
    // that status that no newer run re-ran.
    `WITH chain AS (SELECT * FROM unnest($1::bigint[], $2::int[]) AS c(attempt_pk, run_id)),
     cand AS (
       SELECT k.*, chain.run_id AS from_run FROM chain CROSS JOIN LATERAL (
         SELECT x.iteration, x.workflow_id, x.instance_id, x.run_id, x.status, x.reason, x.params->'loop_params'->'value' AS loop_params,
           x.created_at, x.started_at, x.ended_at
         FROM baton_workflow_instances x
         WHERE x.parent_attempt_pk = chain.attempt_pk AND x.iteration > $3
           AND ($4::text IS NULL OR (x.status = $4 AND NOT EXISTS (
             SELECT 1 FROM chain newer JOIN baton_workflow_instances n ON n.parent_attempt_pk = newer.attempt_pk AND n.iteration = x.iteration
             WHERE newer.run_id > chain.run_id)))
         ORDER BY x.iteration LIMIT $5
       ) k
     )
     SELECT DISTINCT ON (iteration) * FROM cand ORDER BY iteration, from_run DESC LIMIT $5`,
    [chain.rows.map((r) => r.attempt_pk), chain.rows.map((r) => r.run_id), q.after ?? -1, q.status ?? null, limit + 1],
  );
  const items = rows.rows.slice(0, limit).map((r) => ({
    iteration: Number(r.iteration),
    workflowId: r.workflow_id,
    instanceId: Number(r.instance_id),
    runId: r.run_id,
    status: r.status,
    reason: r.reason,
    loopParams: r.loop_params && typeof r.loop_params === 'object' ? r.loop_params : null,
    createdAt: new Date(r.created_at as string),
    startedAt: dn(r.started_at),
    endedAt: dn(r.ended_at),
    fromRunId: r.from_run,
  }));
  const page: IterationPage = { workflowId, instanceId, runId: head.run_id, stepId, attemptId: head.attempt_id, stepType: head.step_type, tally, items };
  if (rows.rows.length > limit) page.nextAfter = items[items.length - 1]!.iteration;
  return page;
}
