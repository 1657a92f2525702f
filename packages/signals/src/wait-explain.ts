import type { Queryable } from '@baton/engine-core';
import { stableJson } from './canonical.js';
import type { ParamValue, SignalParams } from './model.js';
import { conditionHolds, type Condition, type MatchSpec } from './operators.js';
import { instanceColumns, rowToInstance, type InstanceRow } from './queries.js';

/*
 * "Why is this waiting?": the pure part. One awaited signal (a step dependency or one signal of a
 * trigger) is explained against recent instances of its name: which instance met it, and for the
 * ones that did not, every check that failed (operator, param or join key, expected and actual).
 */

/** Most recent instances of a name read per awaited signal (default). */
export const DEFAULT_SCAN_LIMIT = 100;
export const MAX_SCAN_LIMIT = 1000;
/** Closest non-matching instances reported per unmet signal (default). */
export const DEFAULT_CLOSEST = 3;
export const MAX_CLOSEST = 10;

/** One signal instance as an explanation names it. */
export interface SignalRef {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  create_time: Date;
  params: SignalParams;
}

/**
 * Why one instance does not satisfy an awaited signal:
 * - `param`: a match condition failed (`operator` with `expected` against `actual`, null when the param is absent);
 * - `join_key`: its join key differs from the join's (`param` is the key, `expected`/`actual` the values);
 * - `before_active`: it was published before the trigger became active (`expected` is active_since);
 * - `paused`: it was published while the trigger is paused (`expected` is the pause's time);
 * - `consumed`: it already fed a firing of the trigger;
 * - `unprocessed`: it matches every condition but the matcher has not taken it yet.
 */
export interface Mismatch {
  kind: 'param' | 'join_key' | 'before_active' | 'paused' | 'consumed' | 'unprocessed';
  param: string | null;
  operator: string | null;
  expected: ParamValue | ParamValue[] | boolean | string | null;
  actual: ParamValue | string | null;
  message: string;
}

export interface NearMiss {
  signal: SignalRef;
  mismatches: Mismatch[];
}

/** One awaited signal: met (by which instance) or unmet (with the closest instances that did not match). */
export interface ConditionExplanation {
  index: number;
  signal_name: string;
  match_params: Record<string, { operator: string; value: ParamValue | ParamValue[] | boolean }[]>;
  /** The join key params of this signal (triggers; empty for step dependencies). */
  join_keys: string[];
  /** The join key values an instance must carry to complete this join (null: any). */
  expected_join: Record<string, ParamValue> | null;
  met: boolean;
  matched_by: SignalRef | null;
  /** Unmet only: the instances that came closest, fewest mismatches first, then newest. */
  closest: NearMiss[];
  /** How many recent instances of the name were read to find them. */
  scanned: number;
}

export interface ScanOptions {
  scanLimit?: number;
  closest?: number;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'absent';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return String(v);
}

function kindOf(v: unknown): string {
  return typeof v === 'string' ? 'a string' : 'an integer';
}

/** Every failed condition of a spec on one instance's params. */
export function paramMismatches(spec: MatchSpec, params: SignalParams): Mismatch[] {
  const out: Mismatch[] = [];
  for (const param of Object.keys(spec)) {
    const actual = Object.prototype.hasOwnProperty.call(params, param) ? params[param] : undefined;
    for (const c of spec[param]!) {
      if (conditionHolds(c, actual)) continue;
      out.push({ kind: 'param', param, operator: c.op, expected: c.value, actual: actual ?? null, message: conditionMessage(param, c, actual) });
    }
  }
  return out;
}

function conditionMessage(param: string, c: Condition, actual: ParamValue | undefined): string {
  const want = `${param} ${c.op} ${show(c.value)}`;
  if (c.op === 'exists') return c.value ? `${param} must be present but is absent` : `${param} must be absent but is ${show(actual)}`;
  if (actual === undefined) return `${want}: ${param} is absent`;
  const scalar = c.op !== 'in' && c.op !== 'prefix';
  if (scalar && (typeof c.value === 'string') !== (typeof actual === 'string')) return `${want}: ${param} is ${kindOf(actual)} (${show(actual)}), not ${kindOf(c.value)}`;
  return `${want}: actual ${show(actual)}`;
}

/** Join key mismatches of one instance against the join's values (positional, as the matcher joins). */
export function joinMismatches(keys: readonly string[], expected: readonly ParamValue[], params: SignalParams): Mismatch[] {
  const out: Mismatch[] = [];
  keys.forEach((key, i) => {
    const actual = Object.prototype.hasOwnProperty.call(params, key) ? params[key] : undefined;
    const want = expected[i]!;
    if (actual !== undefined && stableJson(actual) === stableJson(want)) return;
    out.push({
      kind: 'join_key',
      param: key,
      operator: '=',
      expected: want,
      actual: actual ?? null,
      message: actual === undefined ? `join key ${key} is absent (the join has ${show(want)})` : `join key ${key}: expected ${show(want)}, actual ${show(actual)}`,
    });
  });
  return out;
}

/** The newest `limit` instances of a name: a backward range scan of the primary key (name, seq_id). */
export async function recentInstances(q: Queryable, name: string, limit: number): Promise<SignalRef[]> {
  const res = await q.query<InstanceRow>(`SELECT ${instanceColumns()} FROM signal_instances WHERE name = $1 ORDER BY seq_id DESC LIMIT $2`, [name, limit]);
  return res.rows.map((r) => toRef(rowToInstance(r)));
}

export function toRef(i: { name: string; seq_id: number | bigint; instance_id: string; create_time: number | Date; params: SignalParams }): SignalRef {
  return { name: i.name, seq_id: i.seq_id, instance_id: i.instance_id, create_time: new Date(i.create_time), params: i.params };
}

/**
 * Ranks the instances that did not match: fewest mismatches first (the nearest miss), then the
 * newest. `mismatchesOf` returns [] for an instance that matches.
 */
export function closestMisses(instances: readonly SignalRef[], mismatchesOf: (i: SignalRef) => Mismatch[], k: number): NearMiss[] {
  const misses: NearMiss[] = [];
  for (const signal of instances) {
    const mismatches = mismatchesOf(signal);
    if (mismatches.length > 0) misses.push({ signal, mismatches });
  }
  misses.sort((a, b) => a.mismatches.length - b.mismatches.length || (BigInt(b.signal.seq_id) > BigInt(a.signal.seq_id) ? 1 : -1));
  return misses.slice(0, k);
}

export function matchParamsJson(spec: MatchSpec): ConditionExplanation['match_params'] {
  return Object.fromEntries(Object.entries(spec).map(([p, conds]) => [p, conds.map((c) => ({ operator: c.op, value: c.value }))]));
}

export function clampScan(opts: ScanOptions): { scanLimit: number; closest: number } {
  const scanLimit = Math.max(1, Math.min(MAX_SCAN_LIMIT, Math.trunc(opts.scanLimit ?? DEFAULT_SCAN_LIMIT)));
  const closest = Math.max(1, Math.min(MAX_CLOSEST, Math.trunc(opts.closest ?? DEFAULT_CLOSEST)));
  return { scanLimit, closest };
}
