import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { matchesSomeDate } from './calendar.js';
import { parseDurationMs } from './duration.js';
import { TriggerError } from './errors.js';
import { fireTimesAfter, fireTimesBefore } from './iterate.js';
import { PREDEFINED, parseCron } from './parse.js';
import { minWallSpacingSeconds } from './spacing.js';
import type { CronSpec } from './spec.js';
import { resolveZone, type ZoneTimeline } from './zone.js';

export type CatchUpPolicy = 'ALL' | 'LATEST' | 'NONE';

/**
 * A time trigger as written in a workflow definition (Maestro's shape). `id` and `catch_up` are
 * Baton additions: `id` pins the trigger's identity across edits of its expression; `catch_up`
 * says what happens to fire times missed while no Baton process was running.
 */
export interface TimeTriggerDefinition {
  type: 'CRON' | 'PREDEFINED';
  cron?: string;
  expression?: string;
  timezone?: string;
  fuzzy_max_delay?: string | number;
  id?: string;
  catch_up?: CatchUpPolicy | { policy: CatchUpPolicy; max_runs?: number };
}

export interface CatchUp {
  policy: CatchUpPolicy;
  /** For ALL: at most this many missed fire times are started (the most recent ones). */
  maxRuns: number;
}

export interface CompiledTrigger {
  /** Stable identity within its workflow: `id` when given, else a hash of expression and zone. */
  key: string;
  expression: string;
  timezone: string;
  spec: CronSpec;
  zone: ZoneTimeline;
  fuzzyMaxDelayMs: number;
  catchUp: CatchUp;
}

export interface CompileOptions {
  /** Triggers whose fire times can be closer than this are rejected. Default one minute. */
  minIntervalMs?: number;
}

export const DEFAULT_MIN_INTERVAL_MS = 60_000;
export const DEFAULT_CATCH_UP: CatchUp = { policy: 'LATEST', maxRuns: 100 };
const MAX_CATCH_UP_RUNS = 10_000;

function catchUpOf(raw: TimeTriggerDefinition['catch_up']): CatchUp {
  if (raw === undefined || raw === null) return DEFAULT_CATCH_UP;
  const policy = typeof raw === 'string' ? raw : raw.policy;
  if (policy !== 'ALL' && policy !== 'LATEST' && policy !== 'NONE') {
    throw new TriggerError(`catch_up policy ${JSON.stringify(policy)} must be ALL, LATEST or NONE`, 'catch_up');
  }
  const maxRuns = typeof raw === 'object' && raw.max_runs !== undefined ? raw.max_runs : DEFAULT_CATCH_UP.maxRuns;
  if (!Number.isInteger(maxRuns) || maxRuns < 1 || maxRuns > MAX_CATCH_UP_RUNS) {
    throw new TriggerError(`catch_up.max_runs must be an integer from 1 to ${MAX_CATCH_UP_RUNS}`, 'catch_up');
  }
  return { policy, maxRuns };
}

function expressionOf(def: TimeTriggerDefinition): string {
  if (def.type === 'CRON') {
    if (typeof def.cron !== 'string') throw new TriggerError('a CRON time trigger needs a "cron" string', 'cron');
    return def.cron.trim();
  }
  if (def.type === 'PREDEFINED') {
    const expr = def.expression;
    if (typeof expr !== 'string' || !PREDEFINED[expr.trim().toLowerCase()]) {
      throw new TriggerError(
        `a PREDEFINED time trigger needs "expression" set to one of ${Object.keys(PREDEFINED).join(', ')}`,
        'expression',
      );
    }
    return expr.trim().toLowerCase();
  }
  throw new TriggerError(`time trigger type ${JSON.stringify((def as { type?: unknown }).type)} must be CRON or PREDEFINED`, 'type');
}

const cache = new Map<string, CompiledTrigger>();

/**
 * Validates and compiles a trigger: syntax, time zone, fuzzy delay, catch-up, that it can fire
 * at all, and that it does not fire more often than `minIntervalMs`. Results are cached.
 */
export function compileTrigger(raw: unknown, opts: CompileOptions = {}): CompiledTrigger {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TriggerError('a time trigger must be an object with "type" CRON or PREDEFINED', 'type');
  }
  const def = raw as TimeTriggerDefinition;
  const minIntervalMs = opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  const cacheKey = JSON.stringify([def.type, def.cron, def.expression, def.timezone, def.fuzzy_max_delay, def.id, def.catch_up, minIntervalMs]);
  const hit = cache.get(cacheKey);
  if (hit) return hit;

  const expression = expressionOf(def);
  const spec = parseCron(expression);
  const zone = resolveZone(def.timezone);
  if (!matchesSomeDate(spec)) {
    throw new TriggerError(`cron "${expression}" matches no calendar date, so it would never fire`, 'cron');
  }
  const spacing = minWallSpacingSeconds(spec) * 1000;
  if (spacing < minIntervalMs) {
    throw new TriggerError(
      `cron "${expression}" fires every ${spacing / 1000}s at its closest; the minimum interval between fire times is ${minIntervalMs / 1000}s`,
      'cron',
    );
  }
  const fuzzyMaxDelayMs = def.fuzzy_max_delay === undefined ? 0 : parseDurationMs(def.fuzzy_max_delay);
  if (def.id !== undefined && (typeof def.id !== 'string' || !/^[\w.-]{1,100}$/.test(def.id))) {
    throw new TriggerError('time trigger id must be 1-100 letters, digits, "_", "." or "-"', 'id');
  }
  const key = def.id ?? 'cron-' + createHash('sha256').update(`${expression}\u0000${zone.name}`).digest('hex').slice(0, 12);
  const compiled: CompiledTrigger = { key, expression, timezone: zone.name, spec, zone, fuzzyMaxDelayMs, catchUp: catchUpOf(def.catch_up) };
  if (cache.size > 10_000) cache.clear();
  cache.set(cacheKey, compiled);
  return compiled;
}

function compiled(t: CompiledTrigger | TimeTriggerDefinition): CompiledTrigger {
  return 'spec' in t ? t : compileTrigger(t);
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
}

function take(gen: Generator<number>, count: number, limit?: (t: number) => boolean): number[] {
  const out: number[] = [];
  if (count === 0) return out;
  for (const t of gen) {
    if (limit && !limit(t)) break;
    out.push(t);
    if (out.length >= count) break;
  }
  return out;
}

/** The next `count` fire instants strictly after `after`, ascending. */
export function nextFireTimes(trigger: CompiledTrigger | TimeTriggerDefinition, after: Date, count: number): Date[] {
  checkCount(count);
  const c = compiled(trigger);
  return take(fireTimesAfter(c.spec, c.zone, after.getTime()), count).map((t) => new Date(t));
}

/** Epoch-millisecond variant used by the scheduler; `until` (inclusive) bounds the search. */
export function nextFireMs(trigger: CompiledTrigger, after: number, count: number, until?: number): number[] {
  return take(fireTimesAfter(trigger.spec, trigger.zone, after), count, until === undefined ? undefined : (t) => t <= until);
}

/** The latest `count` fire instants strictly before `before`, newest first. */
export function prevFireMs(trigger: CompiledTrigger, before: number, count: number, notBefore?: number): number[] {
  return take(fireTimesBefore(trigger.spec, trigger.zone, before), count, notBefore === undefined ? undefined : (t) => t >= notBefore);
}

/** The latest fire instant strictly before `before`, or null when the schedule never fired. */
export function prevFireTime(trigger: CompiledTrigger | TimeTriggerDefinition, before: Date): Date | null {
  const [t] = prevFireMs(compiled(trigger), before.getTime(), 1);
  return t === undefined ? null : new Date(t);
}

/** ISO-8601 with the zone's offset at that instant, e.g. `2025-03-30T03:30:00+02:00`. */
export function formatInZone(ms: number, timezone: string): string {
  const dt = DateTime.fromMillis(ms, { zone: timezone });
  return dt.toFormat(dt.millisecond ? "yyyy-MM-dd'T'HH:mm:ss.SSSZZ" : "yyyy-MM-dd'T'HH:mm:ssZZ");
}

export interface PreviewedFire {
  /** ISO-8601 in the trigger's zone, with its offset. */
  fire_time: string;
  epoch_ms: number;
}

/**
 * The next `count` fire times of a trigger strictly after `from`, for the preview endpoint and
 * command. Validates the trigger first (throws `TriggerError` with the field at fault).
 */
export function previewFireTimes(def: unknown, opts: { from: Date; count: number } & CompileOptions): PreviewedFire[] {
  const trigger = compileTrigger(def, opts);
  checkCount(opts.count);
  return nextFireMs(trigger, opts.from.getTime(), opts.count).map((ms) => ({ fire_time: formatInZone(ms, trigger.timezone), epoch_ms: ms }));
}
