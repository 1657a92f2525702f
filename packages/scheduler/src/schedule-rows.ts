import type { Queryable } from '@baton/engine-core';
import type { TimeTriggerDefinition } from './cron/trigger.js';
import { NOT_PAUSED } from './pause-sql.js';

/** A workflow's time triggers as its active version defines them. */
export interface ActiveSchedule {
  version: number;
  triggers: readonly TimeTriggerDefinition[];
  /** The workflow's `time_trigger_disabled` property. */
  disabled?: boolean;
}

export interface ScheduleRow {
  workflow_id: string;
  trigger_key: string;
  workflow_version: number;
  definition: TimeTriggerDefinition;
  expression: string;
  timezone: string;
  enabled: boolean;
  next_fire_ms: number | null;
  next_due_ms: number | null;
  watermark_ms: number | null;
  fired_by: string | null;
  started_count: number;
  catch_up_count: number;
  skipped_count: number;
  last_error: string | null;
}

export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toRow(r: Record<string, unknown>): ScheduleRow {
  return {
    ...(r as unknown as ScheduleRow),
    workflow_version: Number(r.workflow_version),
    next_fire_ms: num(r.next_fire_ms),
    next_due_ms: num(r.next_due_ms),
    watermark_ms: num(r.watermark_ms),
    started_count: Number(r.started_count ?? 0),
    catch_up_count: Number(r.catch_up_count ?? 0),
    skipped_count: Number(r.skipped_count ?? 0),
  };
}

/** When this process should look again: the earliest due row that is not paused. */
export async function earliestWakeup(db: Queryable): Promise<number | null> {
  const res = await db.query<{ at: number | string | null }>(
    `SELECT next_due_ms AS at FROM scheduler_triggers WHERE enabled AND next_due_ms IS NOT NULL AND ${NOT_PAUSED} ORDER BY next_due_ms LIMIT 1`,
  );
  return num(res.rows[0]?.at);
}

export async function listSchedule(db: Queryable, workflowId?: string): Promise<ScheduleRow[]> {
  const res = await db.query<Record<string, unknown>>(
    workflowId === undefined
      ? 'SELECT * FROM scheduler_triggers ORDER BY workflow_id, trigger_key'
      : 'SELECT * FROM scheduler_triggers WHERE workflow_id = $1 ORDER BY trigger_key',
    workflowId === undefined ? [] : [workflowId],
  );
  return res.rows.map(toRow);
}
