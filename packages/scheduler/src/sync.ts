import type { Queryable } from '@baton/engine-core';
import { TriggerError } from './cron/errors.js';
import { stableJitterMs } from './cron/jitter.js';
import { compileTrigger, nextFireMs, type CompileOptions, type TimeTriggerDefinition } from './cron/trigger.js';
import { toRow, type ActiveSchedule, type ScheduleRow } from './schedule-rows.js';

interface Upsert {
  workflowId: string;
  key: string;
  version: number;
  definition: TimeTriggerDefinition;
  expression: string;
  timezone: string;
  enabled: boolean;
  nextFire: number | null;
  nextDue: number | null;
  error: string | null;
}

export interface SyncItem {
  workflowId: string;
  /** null: the workflow has no active version (deactivated or deleted). */
  active: ActiveSchedule | null;
}

export interface SyncReport {
  /** Triggers that schedule (enabled rows). */
  scheduled: number;
  disabled: number;
  removed: number;
  /** Triggers rejected by validation, with the reason; their rows are kept disabled with last_error. */
  invalid: Array<{ workflowId: string; key: string; error: string }>;
}

/**
 * Brings the schedule rows of these workflows in line with their active definitions, in the
 * caller's transaction. A trigger whose schedule is unchanged keeps its next fire time and
 * watermark, so pushing a new version neither loses nor repeats a fire; a new, changed or
 * re-enabled trigger starts from `now` (an inactive period is never caught up); deactivation and
 * `time_trigger_disabled` disable the rows; triggers gone from the definition are deleted.
 */
export async function syncSchedules(tx: Queryable, items: readonly SyncItem[], now: number, opts: CompileOptions = {}): Promise<SyncReport> {
  const report: SyncReport = { scheduled: 0, disabled: 0, removed: 0, invalid: [] };
  if (items.length === 0) return report;
  const ids = items.map((i) => i.workflowId);
  const existing = new Map<string, ScheduleRow>();
  const res = await tx.query<Record<string, unknown>>(
    `SELECT * FROM scheduler_triggers WHERE workflow_id = ANY($1::text[]) ORDER BY workflow_id, trigger_key FOR UPDATE`,
    [ids],
  );
  for (const r of res.rows) {
    const row = toRow(r);
    existing.set(`${row.workflow_id}\u0000${row.trigger_key}`, row);
  }

  const upserts: Upsert[] = [];
  const keep = new Set<string>();
  for (const { workflowId, active } of items) {
    if (!active || active.disabled) continue;
    active.triggers.forEach((def, index) => {
      let compiled;
      try {
        compiled = compileTrigger(def, opts);
      } catch (e) {
        if (!(e instanceof TriggerError)) throw e;
        const key = typeof def?.id === 'string' && def.id ? def.id : `invalid-${index}`;
        keep.add(`${workflowId}\u0000${key}`);
        report.invalid.push({ workflowId, key, error: e.message });
        upserts.push({ workflowId, key, version: active.version, definition: def, expression: String(def?.cron ?? def?.expression ?? ''), timezone: String(def?.timezone ?? 'UTC'), enabled: false, nextFire: null, nextDue: null, error: e.message });
        return;
      }
      const id = `${workflowId}\u0000${compiled.key}`;
      if (keep.has(id)) return; // two identical triggers fire the same instants: one row serves both
      keep.add(id);
      const old = existing.get(id);
      const jitter = stableJitterMs(workflowId, compiled.key, compiled.fuzzyMaxDelayMs);
      let nextFire: number | null;
      if (old && old.enabled && old.expression === compiled.expression && old.timezone === compiled.timezone) {
        nextFire = old.next_fire_ms;
      } else {
        const from = Math.max(now - 1, old?.watermark_ms ?? -Infinity);
        nextFire = nextFireMs(compiled, from, 1)[0] ?? null;
      }
      report.scheduled++;
      upserts.push({
        workflowId,
        key: compiled.key,
        version: active.version,
        definition: def,
        expression: compiled.expression,
        timezone: compiled.timezone,
        enabled: true,
        nextFire,
        nextDue: nextFire === null ? null : nextFire + jitter,
        error: null,
      });
    });
  }

  const disableIds: string[] = [];
  const removeW: string[] = [];
  const removeK: string[] = [];
  const byWorkflow = new Map(items.map((i) => [i.workflowId, i.active]));
  for (const row of existing.values()) {
    const active = byWorkflow.get(row.workflow_id);
    if (!active || active.disabled) {
      if (row.enabled) disableIds.push(row.workflow_id);
      report.disabled++;
    } else if (!keep.has(`${row.workflow_id}\u0000${row.trigger_key}`)) {
      removeW.push(row.workflow_id);
      removeK.push(row.trigger_key);
      report.removed++;
    }
  }
  if (disableIds.length > 0) {
    await tx.query(
      `UPDATE scheduler_triggers SET enabled = false, next_fire_ms = NULL, next_due_ms = NULL, updated_at = now() WHERE workflow_id = ANY($1::text[])`,
      [[...new Set(disableIds)]],
    );
  }
  if (removeW.length > 0) {
    await tx.query(
      `DELETE FROM scheduler_triggers t USING unnest($1::text[], $2::text[]) AS r(w, k) WHERE t.workflow_id = r.w AND t.trigger_key = r.k`,
      [removeW, removeK],
    );
  }
  for (let i = 0; i < upserts.length; i += 5000) await upsertRows(tx, upserts.slice(i, i + 5000));
  return report;
}

async function upsertRows(tx: Queryable, rows: Upsert[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO scheduler_triggers (workflow_id, trigger_key, workflow_version, definition, expression, timezone, enabled, next_fire_ms, next_due_ms, last_error)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::text[], $7::boolean[], $8::bigint[], $9::bigint[], $10::text[])
     ON CONFLICT (workflow_id, trigger_key) DO UPDATE SET
       workflow_version = EXCLUDED.workflow_version, definition = EXCLUDED.definition, expression = EXCLUDED.expression,
       timezone = EXCLUDED.timezone, enabled = EXCLUDED.enabled, next_fire_ms = EXCLUDED.next_fire_ms,
       next_due_ms = EXCLUDED.next_due_ms, last_error = EXCLUDED.last_error, updated_at = now()`,
    [
      rows.map((r) => r.workflowId),
      rows.map((r) => r.key),
      rows.map((r) => r.version),
      rows.map((r) => JSON.stringify(r.definition)),
      rows.map((r) => r.expression),
      rows.map((r) => r.timezone),
      rows.map((r) => r.enabled),
      rows.map((r) => r.nextFire),
      rows.map((r) => r.nextDue),
      rows.map((r) => r.error),
    ],
  );
}
