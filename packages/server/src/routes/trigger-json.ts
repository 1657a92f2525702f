import type { ActivationPreview, ScheduleItem, ZonedTime } from '@baton/scheduler';
import type { SignalActivation, SignalTriggerItem } from '@baton/signals';
import { formatInZone } from '@baton/scheduler';

/** JSON schemas and converters shared by the trigger list and pause/activate routes. */

const time = (what: string) => ({ type: ['string', 'null'], format: 'date-time', description: `${what}, ISO-8601 UTC` }) as const;
const local = (what: string) => ({ type: ['string', 'null'], description: `${what}, ISO-8601 in the trigger's zone with its offset` }) as const;

const pauseProperties = {
  status: { type: 'string', enum: ['ACTIVE', 'PAUSED', 'DISABLED'], description: 'DISABLED (time triggers only): no active version, time_trigger_disabled, or an invalid trigger' },
  paused: { type: 'boolean' },
  paused_workflow_wide: { type: 'boolean', description: 'the pause covers every trigger of this kind of the workflow, present and future' },
  paused_at: time('when it was paused'),
  paused_by: { type: ['string', 'null'], description: 'the API token that paused it' },
  pause_reason: { type: ['string', 'null'] },
} as const;

export const scheduleItemSchema = {
  type: 'object',
  properties: {
    workflow_id: { type: 'string' },
    trigger_id: { type: 'string', description: "the trigger's `id`, or cron-<hash of expression and zone>" },
    workflow_version: { type: 'integer', description: 'the active version whose trigger this is' },
    type: { type: 'string', description: 'CRON or PREDEFINED' },
    expression: { type: 'string' },
    timezone: { type: 'string' },
    catch_up: { type: ['object', 'null'], properties: { policy: { type: 'string', enum: ['ALL', 'LATEST', 'NONE'] }, max_runs: { type: 'integer' } } },
    ...pauseProperties,
    next_fire_time: time('the next fire time, never in the past; null while paused or disabled'),
    next_fire_time_local: local('the next fire time'),
    due_fire_time: time('the earliest fire time not yet handled when it is already past: due now while active; while paused, where catch-up starts on activation'),
    due_fire_time_local: local('the due fire time'),
    last_fire_time: time('the latest fire time handled (started, or skipped by the catch-up policy)'),
    last_fire_time_local: local('the last fire time'),
    started_count: { type: 'integer' },
    catch_up_count: { type: 'integer' },
    skipped_count: { type: 'integer' },
    last_error: { type: ['string', 'null'] },
  },
  required: ['workflow_id', 'trigger_id', 'expression', 'timezone', 'status', 'paused', 'next_fire_time', 'last_fire_time'],
} as const;

const condition = { type: 'object', properties: { operator: { type: 'string' }, value: {} }, required: ['operator', 'value'] } as const;

export const signalTriggerItemSchema = {
  type: 'object',
  properties: {
    workflow_id: { type: 'string' },
    trigger_id: { type: 'string', description: "a hash of the trigger's content (stable across versions that keep it)" },
    trigger_index: { type: 'integer', description: "position in the active version's signal_triggers" },
    workflow_version: { type: ['integer', 'null'] },
    signals: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          match_params: { type: 'object', additionalProperties: { type: 'array', items: condition }, description: 'param name -> conditions that must all hold' },
          join_keys: { type: 'array', items: { type: 'string' } },
        },
        required: ['name', 'match_params', 'join_keys'],
      },
    },
    condition: { type: ['string', 'null'] },
    dedup_expr: { type: ['string', 'null'] },
    join_window_seconds: { type: ['number', 'null'] },
    active_since: { type: 'string', format: 'date-time', description: 'signals published before this do not count (activation, or the end of a pause)' },
    ...pauseProperties,
    waiting_candidates: { type: 'integer', description: 'matching signals waiting for the rest of their join' },
  },
  required: ['workflow_id', 'trigger_id', 'signals', 'status', 'paused'],
} as const;

/** A fire time as the activation preview shows it. */
const plannedFire = {
  type: 'object',
  properties: { fire_time: { type: 'string', format: 'date-time' }, fire_time_local: { type: 'string' }, catch_up: { type: 'boolean', description: 'a missed fire time started by the catch-up policy' } },
  required: ['fire_time', 'fire_time_local', 'catch_up'],
} as const;

export const activationPreviewSchema = {
  type: 'object',
  description: 'What activating starts at once (for a dry run: would start)',
  properties: {
    time_triggers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          trigger_id: { type: 'string' },
          expression: { type: 'string' },
          timezone: { type: 'string' },
          catch_up: { type: 'object', properties: { policy: { type: 'string' }, max_runs: { type: 'integer' } } },
          would_start: { type: 'array', items: plannedFire },
          would_skip: { type: 'integer', description: 'fire times that came due while paused and that the catch-up policy drops' },
          next_fire_time: time('the first fire time after those'),
          next_fire_time_local: local('the first fire time after those'),
        },
        required: ['trigger_id', 'would_start', 'would_skip', 'next_fire_time'],
      },
    },
    signal_triggers: {
      type: 'array',
      items: {
        type: 'object',
        properties: { trigger_id: { type: 'string' }, signal_names: { type: 'array', items: { type: 'string' } }, waiting_candidates: { type: 'integer' } },
        required: ['trigger_id', 'signal_names', 'waiting_candidates'],
      },
    },
  },
  required: ['time_triggers', 'signal_triggers'],
} as const;

function flat(prefix: string, t: ZonedTime | null): Record<string, string | null> {
  return { [`${prefix}_time`]: t?.utc ?? null, [`${prefix}_time_local`]: t?.local ?? null };
}

export function scheduleItemJson(i: ScheduleItem): Record<string, unknown> {
  const { next_fire, due_fire, last_fire, ...rest } = i;
  return { ...rest, ...flat('next_fire', next_fire), ...flat('due_fire', due_fire), ...flat('last_fire', last_fire) };
}

export function signalTriggerItemJson(i: SignalTriggerItem): Record<string, unknown> {
  return { ...i };
}

export function activationPreviewJson(time: readonly ActivationPreview[], signal: SignalActivation['resumed']): Record<string, unknown> {
  return {
    time_triggers: time.map((p) => ({
      trigger_id: p.triggerKey,
      expression: p.expression,
      timezone: p.timezone,
      catch_up: { policy: p.catchUp.policy, max_runs: p.catchUp.maxRuns },
      would_start: p.wouldStart.map((f) => ({ fire_time: new Date(f.fireMs).toISOString(), fire_time_local: formatInZone(f.fireMs, p.timezone), catch_up: f.catchUp })),
      would_skip: p.wouldSkip,
      next_fire_time: p.nextFireMs === null ? null : new Date(p.nextFireMs).toISOString(),
      next_fire_time_local: p.nextFireMs === null ? null : formatInZone(p.nextFireMs, p.timezone),
    })),
    signal_triggers: signal.map((s) => ({ trigger_id: s.triggerId, signal_names: s.signalNames, waiting_candidates: s.waitingCandidates })),
  };
}
