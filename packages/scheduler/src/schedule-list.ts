import type { Queryable } from '@baton/engine-core';
import { compileTrigger, formatInZone, nextFireMs, type CompileOptions, type TimeTriggerDefinition } from './cron/trigger.js';
import { ALL_TRIGGERS } from './pause-sql.js';
import { num } from './schedule-rows.js';

export interface ScheduleListQuery {
  workflowId?: string;
  paused?: boolean;
  /** Page size; one more row is read to know whether another page follows. */
  limit: number;
  /** Rows strictly after this (workflow id, trigger key), in that order. */
  after?: { workflowId: string; triggerKey: string };
  /** Epoch ms: what "now" is for next fire times. */
  now: number;
  compile?: CompileOptions;
}

/** An instant in UTC and in the trigger's zone (both ISO-8601). */
export interface ZonedTime {
  utc: string;
  local: string;
  epoch_ms: number;
}

/** One time trigger as the schedule list shows it. */
export interface ScheduleItem {
  workflow_id: string;
  trigger_id: string;
  workflow_version: number;
  type: string;
  expression: string;
  timezone: string;
  catch_up: { policy: string; max_runs: number } | null;
  /**
   * ACTIVE: fires; PAUSED: an operator paused it (fires nothing until activated); DISABLED: its
   * workflow has no active version, `time_trigger_disabled` is set, or the trigger is invalid.
   */
  status: 'ACTIVE' | 'PAUSED' | 'DISABLED';
  paused: boolean;
  /** When paused: whether the pause covers every time trigger of the workflow. */
  paused_workflow_wide: boolean;
  paused_at: Date | null;
  paused_by: string | null;
  pause_reason: string | null;
  /** The next fire time, never in the past; null while paused or disabled, or when it never fires again. */
  next_fire: ZonedTime | null;
  /**
   * The earliest fire time not handled yet when it is already past: due right now while active;
   * while paused, where the catch-up policy starts from on activation.
   */
  due_fire: ZonedTime | null;
  /** The latest fire time handled (started, or skipped by the catch-up policy). */
  last_fire: ZonedTime | null;
  started_count: number;
  catch_up_count: number;
  skipped_count: number;
  last_error: string | null;
}

export interface SchedulePage {
  items: ScheduleItem[];
  /** Present when more rows follow: pass it back as `after`. */
  next?: { workflowId: string; triggerKey: string };
}

function zoned(ms: number | null, timezone: string): ZonedTime | null {
  if (ms === null) return null;
  let local: string;
  try {
    local = formatInZone(ms, timezone);
  } catch {
    local = new Date(ms).toISOString();
  }
  return { utc: new Date(ms).toISOString(), local, epoch_ms: ms };
}

/** Time triggers with their pause state and next fire times, by workflow id and trigger key. */
export async function listSchedules(q: Queryable, query: ScheduleListQuery): Promise<SchedulePage> {
  const res = await q.query<Record<string, unknown>>(
    `SELECT t.workflow_id, t.trigger_key, t.workflow_version, t.definition, t.expression, t.timezone, t.enabled,
            t.next_fire_ms, t.watermark_ms, t.started_count, t.catch_up_count, t.skipped_count, t.last_error,
            p.trigger_key AS pause_key, p.paused_at, p.paused_by, p.reason
       FROM scheduler_triggers t
       LEFT JOIN LATERAL (
         SELECT * FROM scheduler_pauses p WHERE p.workflow_id = t.workflow_id AND p.trigger_key IN ($6, t.trigger_key)
          ORDER BY p.paused_at, p.trigger_key LIMIT 1
       ) p ON true
      WHERE ($1::text IS NULL OR t.workflow_id = $1)
        AND ($2::boolean IS NULL OR (p.workflow_id IS NOT NULL) = $2)
        AND ($3::text IS NULL OR t.workflow_id > $3 OR (t.workflow_id = $3 AND t.trigger_key > $4))
      ORDER BY t.workflow_id, t.trigger_key
      LIMIT $5`,
    [query.workflowId ?? null, query.paused ?? null, query.after?.workflowId ?? null, query.after?.triggerKey ?? null, query.limit + 1, ALL_TRIGGERS],
  );
  const rows = res.rows.slice(0, query.limit);
  const items = rows.map((r) => toItem(r, query.now, query.compile));
  const last = rows[rows.length - 1];
  return res.rows.length > query.limit && last ? { items, next: { workflowId: last.workflow_id as string, triggerKey: last.trigger_key as string } } : { items };
}

function toItem(r: Record<string, unknown>, now: number, compile: CompileOptions | undefined): ScheduleItem {
  const def = r.definition as TimeTriggerDefinition;
  const timezone = r.timezone as string;
  const enabled = r.enabled as boolean;
  const paused = r.pause_key !== null && r.pause_key !== undefined;
  const stored = num(r.next_fire_ms);
  let trigger;
  try {
    // Rows were validated when they were scheduled; the list only needs their fire times.
    trigger = compileTrigger(def, compile ?? { minIntervalMs: 0 });
  } catch {
    trigger = undefined;
  }
  let next: number | null = null;
  let due: number | null = null;
  if (enabled && stored !== null && trigger) {
    if (paused) due = stored <= now ? stored : null;
    else if (stored >= now) next = stored;
    else {
      due = stored;
      next = nextFireMs(trigger, now, 1)[0] ?? null;
    }
  }
  return {
    workflow_id: r.workflow_id as string,
    trigger_id: r.trigger_key as string,
    workflow_version: Number(r.workflow_version),
    type: String(def?.type ?? ''),
    expression: r.expression as string,
    timezone,
    catch_up: trigger ? { policy: trigger.catchUp.policy, max_runs: trigger.catchUp.maxRuns } : null,
    status: !enabled ? 'DISABLED' : paused ? 'PAUSED' : 'ACTIVE',
    paused,
    paused_workflow_wide: paused && r.pause_key === ALL_TRIGGERS,
    paused_at: paused ? new Date(r.paused_at as string | Date) : null,
    paused_by: paused ? ((r.paused_by as string | null) ?? null) : null,
    pause_reason: paused ? ((r.reason as string | null) ?? null) : null,
    next_fire: zoned(next, timezone),
    due_fire: zoned(due, timezone),
    last_fire: zoned(num(r.watermark_ms), timezone),
    started_count: Number(r.started_count ?? 0),
    catch_up_count: Number(r.catch_up_count ?? 0),
    skipped_count: Number(r.skipped_count ?? 0),
    last_error: (r.last_error as string | null) ?? null,
  };
}
