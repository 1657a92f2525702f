import type { Queryable } from '@baton/engine-core';
import { TriggerError } from './cron/errors.js';
import { stableJitterMs } from './cron/jitter.js';
import { compileTrigger, nextFireMs, type CompileOptions, type TimeTriggerDefinition } from './cron/trigger.js';

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

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

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

// What firing reads; the rest of the row (counters, timestamps) stays in the database.
const FIRING_COLUMNS = 'workflow_id, trigger_key, workflow_version, definition, enabled, next_fire_ms, next_due_ms, watermark_ms, last_error';
export type FiringRow = Pick<ScheduleRow, 'workflow_id' | 'trigger_key' | 'workflow_version' | 'definition' | 'enabled' | 'next_fire_ms' | 'next_due_ms' | 'watermark_ms' | 'last_error'>;

function toFiringRow(r: Record<string, unknown>): FiringRow {
  return {
    workflow_id: r.workflow_id as string,
    trigger_key: r.trigger_key as string,
    workflow_version: Number(r.workflow_version),
    definition: r.definition as TimeTriggerDefinition,
    enabled: r.enabled as boolean,
    next_fire_ms: num(r.next_fire_ms),
    next_due_ms: num(r.next_due_ms),
    watermark_ms: num(r.watermark_ms),
    last_error: (r.last_error as string | null) ?? null,
  };
}

/**
 * Locks up to `limit` due rows for the caller's transaction, skipping rows another process is
 * firing right now. The row lock is the claim: it lasts exactly as long as the transaction that
 * starts the runs and advances the rows, and a process that dies releases it with its connection.
 */
export async function lockDue(tx: Queryable, now: number, limit: number): Promise<FiringRow[]> {
  const res = await tx.query<Record<string, unknown>>(
    `SELECT ${FIRING_COLUMNS} FROM scheduler_triggers WHERE enabled AND next_due_ms <= $1
      ORDER BY next_due_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return res.rows.map(toFiringRow);
}

/** Locks one row if it is still due and still expects `nextFire` (nobody fired it meanwhile). */
export async function lockOne(tx: Queryable, workflowId: string, key: string, nextFire: number, now: number): Promise<FiringRow[]> {
  const res = await tx.query<Record<string, unknown>>(
    `SELECT ${FIRING_COLUMNS} FROM scheduler_triggers WHERE workflow_id = $1 AND trigger_key = $2 AND enabled AND next_fire_ms = $3 AND next_due_ms <= $4
     FOR UPDATE SKIP LOCKED`,
    [workflowId, key, nextFire, now],
  );
  return res.rows.map(toFiringRow);
}

export interface Advance {
  workflowId: string;
  key: string;
  nextFire: number | null;
  nextDue: number | null;
  watermark: number | null;
  started: number;
  catchUp: number;
  skipped: number;
  error: string | null;
}

/** Writes the new next fire time and watermark, for many rows at once. */
export async function advanceRows(tx: Queryable, owner: string, rows: readonly Advance[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE scheduler_triggers t SET next_fire_ms = u.nf, next_due_ms = u.nd, watermark_ms = u.wm,
            fired_by = $10, last_error = u.err,
            started_count = t.started_count + u.st, catch_up_count = t.catch_up_count + u.cu,
            skipped_count = t.skipped_count + u.sk, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[], $7::int[], $8::int[], $9::text[])
            AS u(w, k, nf, nd, wm, st, cu, sk, err)
      WHERE t.workflow_id = u.w AND t.trigger_key = u.k`,
    [
      rows.map((r) => r.workflowId),
      rows.map((r) => r.key),
      rows.map((r) => r.nextFire),
      rows.map((r) => r.nextDue),
      rows.map((r) => r.watermark),
      rows.map((r) => r.started),
      rows.map((r) => r.catchUp),
      rows.map((r) => r.skipped),
      rows.map((r) => r.error),
      owner,
    ],
  );
}

/** When this process should look again: the earliest due row. */
export async function earliestWakeup(db: Queryable): Promise<number | null> {
  const res = await db.query<{ at: number | string | null }>(
    `SELECT next_due_ms AS at FROM scheduler_triggers WHERE enabled AND next_due_ms IS NOT NULL ORDER BY next_due_ms LIMIT 1`,
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

/**
 * Continues schedules from known watermarks (e.g. imported from Maestro): each enabled trigger
 * row that matches gets the watermark and the first fire time after it, so the catch-up policy
 * decides what happens to the fire times since. A watermark never moves a schedule backwards.
 * Returns the keys that were updated.
 */
export async function seedWatermarks(
  tx: Queryable,
  workflowId: string,
  entries: ReadonlyArray<{ trigger: TimeTriggerDefinition; watermarkMs: number }>,
  opts: CompileOptions = {},
): Promise<string[]> {
  const updated: string[] = [];
  for (const { trigger, watermarkMs } of entries) {
    const compiled = compileTrigger(trigger, opts);
    const res = await tx.query<Record<string, unknown>>(
      'SELECT * FROM scheduler_triggers WHERE workflow_id = $1 AND trigger_key = $2 AND enabled FOR UPDATE',
      [workflowId, compiled.key],
    );
    const row = res.rows[0] && toRow(res.rows[0]);
    if (!row || (row.watermark_ms !== null && row.watermark_ms >= watermarkMs)) continue;
    const [next] = nextFireMs(compiled, watermarkMs, 1);
    const jitter = stableJitterMs(workflowId, compiled.key, compiled.fuzzyMaxDelayMs);
    await tx.query(
      `UPDATE scheduler_triggers SET watermark_ms = $3, next_fire_ms = $4, next_due_ms = $5, updated_at = now()
        WHERE workflow_id = $1 AND trigger_key = $2`,
      [workflowId, compiled.key, watermarkMs, next ?? null, next === undefined ? null : next + jitter],
    );
    updated.push(compiled.key);
  }
  return updated;
}
