import type { Queryable } from '../db/db.js';

/** What is left of an instance chain (all its runs) that run retention purged. */
export interface RunTombstone {
  workflowId: string;
  instanceId: number;
  /** Runs of the restart chain that were purged; the last one's id and status. */
  runs: number;
  lastRunId: number;
  status: string;
  /** ISO-8601. */
  createdAt: string;
  endedAt: string | null;
  purgedAt: string;
}

interface Row {
  workflow_id: string;
  instance_id: string | number;
  runs: number;
  last_run_id: number;
  status: string;
  created_at: Date | string;
  ended_at: Date | string | null;
  purged_at: Date | string;
}

const iso = (t: Date | string): string => new Date(t).toISOString();

function toTombstone(r: Row): RunTombstone {
  return {
    workflowId: r.workflow_id,
    instanceId: Number(r.instance_id),
    runs: r.runs,
    lastRunId: r.last_run_id,
    status: r.status,
    createdAt: iso(r.created_at),
    endedAt: r.ended_at === null ? null : iso(r.ended_at),
    purgedAt: iso(r.purged_at),
  };
}

/**
 * Whether a table exists: the signals package also runs on a database without the engine's
 * tables (its own tests, a signals-only store), where there are no runs and no run tombstones.
 */
async function hasTable(q: Queryable, table: string): Promise<boolean> {
  const res = await q.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  return res.rows[0]?.ok === true;
}

/** The tombstones of the given instances that were purged (absent ones are stored, or never were). */
export async function runTombstones(q: Queryable, keys: readonly { workflowId: string; instanceId: string | number }[]): Promise<RunTombstone[]> {
  const numeric = keys.filter((k) => /^\d{1,18}$/.test(String(k.instanceId)));
  if (numeric.length === 0 || !(await hasTable(q, 'baton_run_tombstones'))) return [];
  const res = await q.query<Row>(
    `SELECT t.* FROM baton_run_tombstones t JOIN unnest($1::text[], $2::bigint[]) AS k(w, i) ON t.workflow_id = k.w AND t.instance_id = k.i`,
    [numeric.map((k) => k.workflowId), numeric.map((k) => String(k.instanceId))],
  );
  return res.rows.map(toTombstone);
}

/** The tombstone of one purged instance, if retention purged it. */
export async function runTombstone(q: Queryable, workflowId: string, instanceId: string | number): Promise<RunTombstone | undefined> {
  return (await runTombstones(q, [{ workflowId, instanceId }]))[0];
}

/** "… was purged by run retention at …": the detail of a 404 for a purged run. */
export function purgedRunMessage(t: RunTombstone): string {
  return `workflow "${t.workflowId}" instance ${t.instanceId} was purged by run retention at ${t.purgedAt} (its ${t.runs === 1 ? 'run' : `${t.runs} runs`} ended ${t.endedAt ?? 'unknown'}, last status ${t.status}); only its tombstone is kept`;
}

/** Oldest end time among the stored finished top-level runs (ISO-8601), null when there is none. */
export async function oldestRetainedRun(q: Queryable): Promise<string | null> {
  if (!(await hasTable(q, 'baton_workflow_instances'))) return null;
  const res = await q.query<{ t: Date | string | null }>(
    `SELECT ended_at AS t FROM baton_workflow_instances WHERE parent_attempt_pk IS NULL AND ended_at IS NOT NULL ORDER BY ended_at LIMIT 1`,
  );
  const t = res.rows[0]?.t;
  return t === null || t === undefined ? null : iso(t);
}

/** The engine tables run retention deletes from, for the status and the size metrics. */
export const RUN_TABLES = [
  'baton_workflow_instances',
  'baton_step_attempts',
  'baton_instance_timeline',
  'baton_step_timeline',
  'baton_step_logs',
  'baton_step_log_chunks',
  'baton_step_http_responses',
  'baton_loop_state',
  'baton_run_tombstones',
] as const;
