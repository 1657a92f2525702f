import type { Queryable } from '@baton/engine-core';
import { parseJson } from './json.js';
import type { ParamValue, SignalParams } from './model.js';
import { ALL_SIGNAL_TRIGGERS } from './pause-sql.js';
import { rowToSubscription, SUBSCRIPTION_COLUMNS, type Subscription, type TriggerSignal } from './subscriptions.js';
import {
  clampScan,
  closestMisses,
  joinMismatches,
  matchParamsJson,
  paramMismatches,
  recentInstances,
  toRef,
  type ConditionExplanation,
  type Mismatch,
  type ScanOptions,
  type SignalRef,
} from './wait-explain.js';

/** Pending joins explained per trigger (default), newest first. */
export const DEFAULT_JOIN_LIMIT = 5;
export const MAX_JOIN_LIMIT = 50;

/** One join of a trigger: the signals it holds (met) and the ones it still waits for. */
export interface JoinExplanation {
  /** The join key values (positional, as each signal's `join_keys` names them); null when no signal arrived. */
  join_values: ParamValue[] | null;
  /** Every signal is there: the firing waits for a retry (its start failed). */
  complete: boolean;
  first_signal_time: Date | null;
  /** With a join window: when the oldest held signal stops counting. */
  expires_at: Date | null;
  conditions: ConditionExplanation[];
}

export interface TriggerWait {
  trigger_id: string;
  trigger_index: number;
  workflow_version: number | null;
  signal_names: string[];
  active_since: Date;
  /** A paused trigger counts no signal published while it is paused. */
  paused: boolean;
  paused_at: Date | null;
  join_window_seconds: number | null;
  /** Joins found among the candidates read that hold some signals but not all. */
  partial_joins: number;
  joins: JoinExplanation[];
}

export interface TriggerWaitExplanation {
  workflow_id: string;
  scan_limit: number;
  triggers: TriggerWait[];
}

export interface TriggerWaitOptions extends ScanOptions {
  triggerId?: string;
  joinLimit?: number;
}

interface CandidateRow {
  signal_name: string;
  seq_id: number | bigint;
  join_key: string;
  instance_id: string;
  params: string;
  create_ms: number | bigint;
}

/**
 * Explains why a workflow's active signal triggers have not fired: for each pending join (signals
 * held as candidates for one join key), which signals it holds and, for each missing one, the
 * closest recent instances of that name and why they do not count (a failed condition, another
 * join key, published before activation or while paused, already consumed, or not yet matched). A trigger with
 * no candidates is explained as one empty join. Every read is bounded and uses a primary key.
 */
export async function explainTriggerWaits(q: Queryable, workflowId: string, opts: TriggerWaitOptions = {}): Promise<TriggerWaitExplanation> {
  const { scanLimit, closest } = clampScan(opts);
  const joinLimit = Math.max(1, Math.min(MAX_JOIN_LIMIT, Math.trunc(opts.joinLimit ?? DEFAULT_JOIN_LIMIT)));
  const subs = await q.query<Record<string, unknown>>(
    `SELECT ${SUBSCRIPTION_COLUMNS},
            (SELECT min(p.paused_at) FROM signal_trigger_pauses p WHERE p.workflow_id = s.workflow_id AND p.trigger_id IN ($3, s.trigger_id)) AS paused_at
       FROM signal_subscriptions s
      WHERE s.workflow_id = $1 AND s.active AND ($2::text IS NULL OR s.trigger_id = $2) ORDER BY s.trigger_index, s.trigger_id`,
    [workflowId, opts.triggerId ?? null, ALL_SIGNAL_TRIGGERS],
  );
  const out: TriggerWaitExplanation = { workflow_id: workflowId, scan_limit: scanLimit, triggers: [] };
  for (const row of subs.rows) {
    const sub = rowToSubscription(row as unknown as Parameters<typeof rowToSubscription>[0]);
    const pausedAt = row.paused_at === null || row.paused_at === undefined ? null : new Date(row.paused_at as string | Date);
    out.triggers.push(await explainTrigger(q, sub, pausedAt, { scanLimit, closest, joinLimit }));
  }
  return out;
}

async function explainTrigger(q: Queryable, sub: Subscription, pausedAt: Date | null, lim: { scanLimit: number; closest: number; joinLimit: number }): Promise<TriggerWait> {
  // The newest candidates of each signal: a range of the candidates' primary key per name.
  const cands = await q.query<CandidateRow>(
    `SELECT c.signal_name, c.seq_id, c.join_key, i.instance_id, i.params::text AS params, (extract(epoch FROM i.create_time) * 1000)::bigint AS create_ms
       FROM unnest($3::text[]) AS n(name)
       CROSS JOIN LATERAL (
         SELECT * FROM signal_trigger_candidates c
          WHERE c.workflow_id = $1 AND c.trigger_id = $2 AND c.signal_name = n.name ORDER BY c.seq_id DESC LIMIT $4
       ) c
       JOIN signal_instances i ON i.name = c.signal_name AND i.seq_id = c.seq_id`,
    [sub.workflowId, sub.triggerId, [...new Set(sub.signals.map((s) => s.name))], lim.scanLimit],
  );
  // join key → signal name → the earliest held instance (the one a firing consumes first).
  const joins = new Map<string, Map<string, SignalRef>>();
  for (const c of cands.rows) {
    const held = joins.get(c.join_key) ?? new Map<string, SignalRef>();
    const ref = toRef({ name: c.signal_name, seq_id: c.seq_id, instance_id: c.instance_id, create_time: Number(c.create_ms), params: parseJson(c.params) as SignalParams });
    const prev = held.get(c.signal_name);
    if (!prev || BigInt(ref.seq_id) < BigInt(prev.seq_id)) held.set(c.signal_name, ref);
    joins.set(c.join_key, held);
  }
  const newest = (held: Map<string, SignalRef>) => Math.max(...[...held.values()].map((r) => r.create_time.getTime()));
  const ordered = [...joins.entries()].sort((a, b) => newest(b[1]) - newest(a[1]));
  const isPartial = (held: Map<string, SignalRef>) => sub.signals.some((s) => !held.has(s.name));

  const scans = new ScanCache(q, sub, lim.scanLimit);
  const wait: TriggerWait = {
    trigger_id: sub.triggerId,
    trigger_index: sub.triggerIndex,
    workflow_version: sub.workflowVersion,
    signal_names: sub.signals.map((s) => s.name),
    active_since: sub.activeSince,
    paused: pausedAt !== null,
    paused_at: pausedAt,
    join_window_seconds: sub.joinWindowSeconds ?? null,
    partial_joins: ordered.filter(([, held]) => isPartial(held)).length,
    joins: [],
  };
  const shown = ordered.length > 0 ? ordered.slice(0, lim.joinLimit) : [[null, new Map<string, SignalRef>()] as const];
  for (const [joinKey, held] of shown) {
    const values = joinKey === null ? null : (parseJson(joinKey) as unknown as ParamValue[]);
    const times = [...held.values()].map((r) => r.create_time.getTime());
    const first = times.length > 0 ? new Date(Math.min(...times)) : null;
    const conditions: ConditionExplanation[] = [];
    for (const [index, s] of sub.signals.entries()) {
      const by = held.get(s.name) ?? null;
      const c: ConditionExplanation = {
        index,
        signal_name: s.name,
        match_params: matchParamsJson(s.spec),
        join_keys: s.joinKeys,
        expected_join: values && s.joinKeys.length > 0 ? Object.fromEntries(s.joinKeys.map((k, i) => [k, values[i]!])) : null,
        met: by !== null,
        matched_by: by,
        closest: [],
        scanned: 0,
      };
      if (!by) {
        const scan = await scans.of(s.name);
        c.scanned = scan.recent.length;
        c.closest = closestMisses(scan.recent, (i) => missesOf(sub, s, values, scan.consumed, pausedAt, i), lim.closest);
      }
      conditions.push(c);
    }
    wait.joins.push({
      join_values: values,
      complete: !isPartial(held),
      first_signal_time: first,
      expires_at: first && sub.joinWindowSeconds !== undefined ? new Date(first.getTime() + sub.joinWindowSeconds * 1000) : null,
      conditions,
    });
  }
  return wait;
}

/**
 * Why an instance does not count for this signal of this join. One that passes every check is
 * reported too when it cannot count for another reason (consumed, not yet matched), so a missing
 * signal is never shown without an explanation.
 */
function missesOf(sub: Subscription, s: TriggerSignal, values: ParamValue[] | null, consumed: Set<string>, pausedAt: Date | null, i: SignalRef): Mismatch[] {
  const out = paramMismatches(s.spec, i.params);
  if (values) out.push(...joinMismatches(s.joinKeys, values, i.params));
  if (i.create_time < sub.activeSince) {
    out.push({
      kind: 'before_active',
      param: null,
      operator: null,
      expected: sub.activeSince.toISOString(),
      actual: i.create_time.toISOString(),
      message: `published ${i.create_time.toISOString()}, before the trigger became active (${sub.activeSince.toISOString()})`,
    });
  }
  if (pausedAt && i.create_time >= pausedAt) {
    out.push({
      kind: 'paused',
      param: null,
      operator: null,
      expected: pausedAt.toISOString(),
      actual: i.create_time.toISOString(),
      message: `published ${i.create_time.toISOString()}, while the trigger is paused (since ${pausedAt.toISOString()}): it never counts`,
    });
  }
  if (consumed.has(i.seq_id.toString())) {
    out.push({ kind: 'consumed', param: null, operator: null, expected: null, actual: null, message: 'already consumed by an earlier firing of this trigger' });
  }
  if (out.length === 0) {
    out.push({ kind: 'unprocessed', param: null, operator: null, expected: null, actual: null, message: 'matches every condition; the matcher has not processed it yet' });
  }
  return out;
}

/** The newest instances of each name a trigger waits for, and which of them it consumed, read once. */
class ScanCache {
  private readonly byName = new Map<string, { recent: SignalRef[]; consumed: Set<string> }>();

  constructor(
    private readonly q: Queryable,
    private readonly sub: Subscription,
    private readonly limit: number,
  ) {}

  async of(name: string): Promise<{ recent: SignalRef[]; consumed: Set<string> }> {
    const hit = this.byName.get(name);
    if (hit) return hit;
    const recent = await recentInstances(this.q, name, this.limit);
    const used = await this.q.query<{ seq_id: number | bigint }>(
      `SELECT seq_id FROM signal_trigger_consumptions WHERE workflow_id = $1 AND trigger_id = $2 AND signal_name = $3 AND seq_id = ANY ($4::bigint[])`,
      [this.sub.workflowId, this.sub.triggerId, name, recent.map((r) => r.seq_id.toString())],
    );
    const scan = { recent, consumed: new Set(used.rows.map((r) => r.seq_id.toString())) };
    this.byName.set(name, scan);
    return scan;
  }
}
