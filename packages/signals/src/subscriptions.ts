import type { Queryable, SignalTrigger } from '@baton/engine-core';
import { shortHash, stableJson } from './canonical.js';
import { parseJson, stringifyJson } from './json.js';
import { MatchSpecError, parseCondition, type MatchSpec } from './operators.js';
import { SUB_NOT_PAUSED } from './pause-sql.js';
import type { ActiveDefinition } from './ports.js';
import { nameProblem } from './validate.js';

/** One signal of a trigger: which instances match and which params join. */
export interface TriggerSignal {
  name: string;
  spec: MatchSpec;
  joinKeys: string[];
}

/** A workflow signal trigger as the matcher uses it. */
export interface Subscription {
  workflowId: string;
  triggerId: string;
  triggerIndex: number;
  workflowVersion: number | null;
  signals: TriggerSignal[];
  condition?: string;
  dedupExpr?: string;
  /** The trigger's run params (definitions, handed to the engine's start). */
  params: Record<string, unknown>;
  /** Candidates older than this many seconds no longer join (absent: they wait forever). */
  joinWindowSeconds?: number;
  activeSince: Date;
}

type StoredDefinition = Omit<Subscription, 'workflowId' | 'triggerId' | 'triggerIndex' | 'workflowVersion' | 'activeSince'>;

/**
 * Turns a definition's trigger into the matcher's form; throws MatchSpecError naming the field.
 * A second bound on one param is written next to the first as `and` (one `{value, operator}` or a
 * list), which the definition model keeps in the match param's `extra`:
 * `"watermark": {"operator": ">=", "value": 10, "and": {"operator": "<", "value": 20}}`.
 */
export function normalizeTrigger(trigger: SignalTrigger, field: string): StoredDefinition {
  const signals: TriggerSignal[] = [];
  let joinLength: number | undefined;
  for (const [name, def] of Object.entries(trigger.definitions)) {
    const f = `${field}.definitions.${name}`;
    const problem = nameProblem(name);
    if (problem) throw new MatchSpecError(f, `signal name ${problem}`);
    const spec: MatchSpec = {};
    for (const [param, mp] of Object.entries(def.matchParams ?? {})) {
      const pf = `${f}.match_params.${param}`;
      const conds = [parseCondition(mp.operator, mp.value, pf)];
      const more = mp.extra?.and;
      if (more !== undefined) {
        for (const [i, m] of (Array.isArray(more) ? more : [more]).entries()) {
          if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new MatchSpecError(`${pf}.and`, 'must be {value, operator} or a list of them');
          conds.push(parseCondition(m.operator, m.value, `${pf}.and[${i}]`));
        }
      }
      spec[param] = conds;
    }
    const joinKeys = def.joinKeys ?? [];
    if (joinLength === undefined) joinLength = joinKeys.length;
    else if (joinLength !== joinKeys.length) throw new MatchSpecError(`${f}.join_keys`, `every signal of a trigger needs the same number of join keys (${joinLength})`);
    signals.push({ name, spec, joinKeys });
  }
  if (signals.length === 0) throw new MatchSpecError(`${field}.definitions`, 'a signal trigger needs at least one signal');
  const out: StoredDefinition = { signals, params: (trigger.params ?? {}) as Record<string, unknown> };
  if (trigger.condition) out.condition = trigger.condition;
  if (trigger.dedupExpr) out.dedupExpr = trigger.dedupExpr;
  const window = trigger.extra?.join_window_seconds;
  if (window !== undefined) {
    if (typeof window !== 'number' || !(window > 0)) throw new MatchSpecError(`${field}.join_window_seconds`, 'must be a positive number of seconds');
    out.joinWindowSeconds = window;
  }
  return out;
}

/**
 * A trigger's id is a hash of its content, so a new version carrying the same trigger keeps its
 * pending candidates and its consumption history (nothing fires twice across versions).
 */
export function triggerId(def: StoredDefinition, ordinal: number): string {
  const h = shortHash(stableJson(def));
  return ordinal === 0 ? h : `${h}-${ordinal + 1}`;
}

export interface SyncOptions {
  /** Also match instances published since this time (before activation they do not count). */
  backfillFrom?: Date;
}

export interface SyncResult {
  active: string[];
  activated: string[];
  deactivated: string[];
}

/**
 * Brings a workflow's subscriptions in line with its active definition (null: deactivated or
 * deleted). Called by the engine's lifecycle listener on activation, deactivation, a new version
 * and a change of `signal_trigger_disabled`. The generation row is updated first: that waits for
 * in-flight matches, and `clock_timestamp()` afterwards is a cut that every later match respects.
 */
export async function syncSubscriptionsInTx(tx: Queryable, workflowId: string, def: ActiveDefinition | null, opts: SyncOptions = {}): Promise<SyncResult> {
  const desired = new Map<string, { index: number; def: StoredDefinition }>();
  if (def && !def.properties?.signalTriggerDisabled) {
    const seen = new Map<string, number>();
    def.workflow.signalTriggers.forEach((t, index) => {
      const norm = normalizeTrigger(t, `signal_triggers[${index}]`);
      const base = triggerId(norm, 0);
      const ordinal = seen.get(base) ?? 0;
      seen.set(base, ordinal + 1);
      desired.set(triggerId(norm, ordinal), { index, def: norm });
    });
  }
  await tx.query('UPDATE signal_subscription_generation SET generation = generation + 1 WHERE id = 1');
  const existing = await tx.query<{ trigger_id: string; active: boolean }>(
    'SELECT trigger_id, active FROM signal_subscriptions WHERE workflow_id = $1 FOR UPDATE',
    [workflowId],
  );
  const wasActive = new Set(existing.rows.filter((r) => r.active).map((r) => r.trigger_id));
  const result: SyncResult = { active: [...desired.keys()], activated: [], deactivated: [] };

  for (const [id, { index, def: d }] of desired) {
    const names = d.signals.map((s) => s.name);
    if (wasActive.has(id)) {
      await tx.query(
        `UPDATE signal_subscriptions SET trigger_index = $3, workflow_version = $4, definition = $5::jsonb, updated_at = now()
         WHERE workflow_id = $1 AND trigger_id = $2`,
        [workflowId, id, index, def?.version ?? null, stringifyJson(d)],
      );
      continue;
    }
    result.activated.push(id);
    await tx.query(
      `INSERT INTO signal_subscriptions (workflow_id, trigger_id, trigger_index, workflow_version, definition, signal_names, active, active_since)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[], TRUE, clock_timestamp())
       ON CONFLICT (workflow_id, trigger_id) DO UPDATE SET trigger_index = EXCLUDED.trigger_index,
         workflow_version = EXCLUDED.workflow_version, definition = EXCLUDED.definition, signal_names = EXCLUDED.signal_names,
         active = TRUE, active_since = EXCLUDED.active_since, updated_at = now()`,
      [workflowId, id, index, def?.version ?? null, stringifyJson(d), names],
    );
    if (opts.backfillFrom) {
      await tx.query(
        `INSERT INTO signal_match_queue (name, seq_id, only_workflow_id, only_trigger_id)
         SELECT i.name, i.seq_id, $1, $2 FROM signal_instances i, signal_subscriptions s
         WHERE s.workflow_id = $1 AND s.trigger_id = $2 AND i.name = ANY ($3::text[])
           AND i.create_time >= $4::timestamptz AND i.create_time < s.active_since
         ORDER BY i.create_time, i.seq_id`,
        [workflowId, id, names, opts.backfillFrom.toISOString()],
      );
    }
  }
  for (const id of wasActive) {
    if (desired.has(id)) continue;
    result.deactivated.push(id);
    await tx.query('UPDATE signal_subscriptions SET active = FALSE, updated_at = now() WHERE workflow_id = $1 AND trigger_id = $2', [workflowId, id]);
    // A later reactivation counts only signals published after it, so waiting halves go now.
    await tx.query('DELETE FROM signal_trigger_candidates WHERE workflow_id = $1 AND trigger_id = $2', [workflowId, id]);
  }
  return result;
}

interface SubscriptionRow {
  workflow_id: string;
  trigger_id: string;
  trigger_index: number;
  workflow_version: number | null;
  definition: string;
  active_since: Date | string;
}

export function rowToSubscription(r: SubscriptionRow): Subscription {
  const d = parseJson(r.definition) as unknown as StoredDefinition;
  return {
    ...d,
    workflowId: r.workflow_id,
    triggerId: r.trigger_id,
    triggerIndex: r.trigger_index,
    workflowVersion: r.workflow_version === null ? null : Number(r.workflow_version),
    activeSince: new Date(r.active_since),
  };
}

export const SUBSCRIPTION_COLUMNS = 'workflow_id, trigger_id, trigger_index, workflow_version, definition::text AS definition, active_since';

/** Active subscriptions grouped by signal name: the matcher's in-memory index. */
export class SubscriptionIndex {
  readonly byName = new Map<string, { sub: Subscription; signal: number }[]>();
  readonly byKey = new Map<string, Subscription>();

  constructor(
    readonly generation: number,
    subs: Subscription[],
  ) {
    for (const sub of subs) {
      this.byKey.set(subKey(sub.workflowId, sub.triggerId), sub);
      sub.signals.forEach((s, signal) => {
        const list = this.byName.get(s.name) ?? [];
        list.push({ sub, signal });
        this.byName.set(s.name, list);
      });
    }
  }

  static async load(q: Queryable): Promise<SubscriptionIndex> {
    const gen = await q.query<{ generation: number }>('SELECT generation FROM signal_subscription_generation WHERE id = 1');
    // Paused triggers are left out: signals published while paused neither join nor fire them.
    const rows = await q.query<SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM signal_subscriptions s WHERE active AND ${SUB_NOT_PAUSED}`);
    return new SubscriptionIndex(Number(gen.rows[0]?.generation ?? 0), rows.rows.map(rowToSubscription));
  }

  get size(): number {
    return this.byKey.size;
  }
}

export function subKey(workflowId: string, triggerId: string): string {
  return `${workflowId}\u0000${triggerId}`;
}
