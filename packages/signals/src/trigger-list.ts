import type { Queryable } from '@baton/engine-core';
import { parseJson } from './json.js';
import type { Condition, MatchSpec } from './operators.js';
import { ALL_SIGNAL_TRIGGERS } from './pause-sql.js';
import type { ParamValue } from './model.js';

export interface SignalTriggerListQuery {
  workflowId?: string;
  /** Only triggers fed by this signal name. */
  signal?: string;
  paused?: boolean;
  limit: number;
  /** Rows strictly after this (workflow id, trigger id), in that order. */
  after?: { workflowId: string; triggerId: string };
}

/** One signal a trigger waits for: its match params (operators) and join keys. */
export interface SignalTriggerInput {
  name: string;
  match_params: Record<string, Array<{ operator: string; value: ParamValue | ParamValue[] | boolean }>>;
  join_keys: string[];
}

export interface SignalTriggerItem {
  workflow_id: string;
  trigger_id: string;
  /** Position of the trigger in the active version's `signal_triggers`. */
  trigger_index: number;
  workflow_version: number | null;
  signals: SignalTriggerInput[];
  condition: string | null;
  dedup_expr: string | null;
  join_window_seconds: number | null;
  /** Signals published before this do not count (activation, or the end of a pause). */
  active_since: Date;
  status: 'ACTIVE' | 'PAUSED';
  paused: boolean;
  paused_workflow_wide: boolean;
  paused_at: Date | null;
  paused_by: string | null;
  pause_reason: string | null;
  /** Matching signals waiting for the rest of their join. */
  waiting_candidates: number;
}

export interface SignalTriggerPage {
  items: SignalTriggerItem[];
  next?: { workflowId: string; triggerId: string };
}

interface StoredSignal {
  name: string;
  spec: MatchSpec;
  joinKeys: string[];
}

function conditionJson(c: Condition): { operator: string; value: ParamValue | ParamValue[] | boolean } {
  return { operator: c.op, value: c.value };
}

/** Signal triggers of active workflow versions: which signal names feed which workflows, and how. */
export async function listSignalTriggers(q: Queryable, query: SignalTriggerListQuery): Promise<SignalTriggerPage> {
  const res = await q.query<Record<string, unknown>>(
    `SELECT s.workflow_id, s.trigger_id, s.trigger_index, s.workflow_version, s.definition::text AS definition, s.active_since,
            p.trigger_id AS pause_key, p.paused_at, p.paused_by, p.reason,
            (SELECT count(*) FROM signal_trigger_candidates c WHERE c.workflow_id = s.workflow_id AND c.trigger_id = s.trigger_id) AS waiting
       FROM signal_subscriptions s
       LEFT JOIN LATERAL (
         SELECT * FROM signal_trigger_pauses p WHERE p.workflow_id = s.workflow_id AND p.trigger_id IN ($7, s.trigger_id)
          ORDER BY p.paused_at, p.trigger_id LIMIT 1
       ) p ON true
      WHERE s.active
        AND ($1::text IS NULL OR s.workflow_id = $1)
        AND ($2::text IS NULL OR $2 = ANY (s.signal_names))
        AND ($3::boolean IS NULL OR (p.workflow_id IS NOT NULL) = $3)
        AND ($4::text IS NULL OR s.workflow_id > $4 OR (s.workflow_id = $4 AND s.trigger_id > $5))
      ORDER BY s.workflow_id, s.trigger_id
      LIMIT $6`,
    [query.workflowId ?? null, query.signal ?? null, query.paused ?? null, query.after?.workflowId ?? null, query.after?.triggerId ?? null, query.limit + 1, ALL_SIGNAL_TRIGGERS],
  );
  const rows = res.rows.slice(0, query.limit);
  const items = rows.map(toItem);
  const last = rows[rows.length - 1];
  return res.rows.length > query.limit && last ? { items, next: { workflowId: last.workflow_id as string, triggerId: last.trigger_id as string } } : { items };
}

function toItem(r: Record<string, unknown>): SignalTriggerItem {
  const d = parseJson(r.definition as string) as unknown as { signals: StoredSignal[]; condition?: string; dedupExpr?: string; joinWindowSeconds?: number };
  const paused = r.pause_key !== null && r.pause_key !== undefined;
  return {
    workflow_id: r.workflow_id as string,
    trigger_id: r.trigger_id as string,
    trigger_index: Number(r.trigger_index),
    workflow_version: r.workflow_version === null ? null : Number(r.workflow_version),
    signals: d.signals.map((s) => ({
      name: s.name,
      match_params: Object.fromEntries(Object.entries(s.spec).map(([param, conds]) => [param, conds.map(conditionJson)])),
      join_keys: s.joinKeys,
    })),
    condition: d.condition ?? null,
    dedup_expr: d.dedupExpr ?? null,
    join_window_seconds: d.joinWindowSeconds ?? null,
    active_since: new Date(r.active_since as string | Date),
    status: paused ? 'PAUSED' : 'ACTIVE',
    paused,
    paused_workflow_wide: paused && r.pause_key === ALL_SIGNAL_TRIGGERS,
    paused_at: paused ? new Date(r.paused_at as string | Date) : null,
    paused_by: paused ? ((r.paused_by as string | null) ?? null) : null,
    pause_reason: paused ? ((r.reason as string | null) ?? null) : null,
    waiting_candidates: Number(r.waiting),
  };
}
