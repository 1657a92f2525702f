import type { Queryable } from '@baton/engine-core';

/**
 * Read-only summaries the pages need that the domain packages do not offer as functions yet
 * (a list of signal names, a list of workflows). Plain SELECTs over the owners' tables; they
 * belong in `@baton/signals` and `@baton/engine-core` once those grow such queries.
 */

export interface SignalNameSummary {
  name: string;
  /** seq ids are gap-free per name, so the last one is the number of instances. */
  count: number;
  /** Epoch milliseconds of the newest instance; null when none was stored yet. */
  last_seen: number | null;
}

export async function listSignalNames(q: Queryable, opts: { prefix?: string; limit: number }): Promise<SignalNameSummary[]> {
  const res = await q.query<{ name: string; last_seq: number | string; last_seen: Date | string | null }>(
    `SELECT n.name, n.last_seq,
            (SELECT i.create_time FROM signal_instances i WHERE i.name = n.name ORDER BY i.seq_id DESC LIMIT 1) AS last_seen
       FROM signal_names n
      WHERE $1::text IS NULL OR starts_with(n.name, $1::text)
      ORDER BY last_seen DESC NULLS LAST, n.name
      LIMIT $2`,
    [opts.prefix ?? null, opts.limit],
  );
  return res.rows.map((r) => ({ name: r.name, count: Number(r.last_seq), last_seen: r.last_seen === null ? null : new Date(r.last_seen).getTime() }));
}

export interface WorkflowSummary {
  workflow_id: string;
  name: string | null;
  latest_version: number;
  active_version: number | null;
}

export async function listWorkflows(q: Queryable, limit: number): Promise<WorkflowSummary[]> {
  const res = await q.query<{ workflow_id: string; name: string | null; latest_version: number; active_version: number | null }>(
    `SELECT w.workflow_id, v.definition->>'name' AS name, w.latest_version, w.active_version
       FROM baton_workflows w
       LEFT JOIN baton_workflow_versions v ON v.workflow_id = w.workflow_id AND v.version = w.latest_version
      ORDER BY w.workflow_id
      LIMIT $1`,
    [limit],
  );
  return res.rows.map((r) => ({ workflow_id: r.workflow_id, name: r.name, latest_version: Number(r.latest_version), active_version: r.active_version === null ? null : Number(r.active_version) }));
}
