import type { Queryable } from '@baton/engine-core';
import type { TimeTriggerDefinition } from './cron/trigger.js';
import { NOT_PAUSED } from './pause-sql.js';
import { num, type ScheduleRow } from './schedule-rows.js';

// What firing reads; the rest of the row (counters, timestamps) stays in the database.
export const FIRING_COLUMNS = 'workflow_id, trigger_key, workflow_version, definition, enabled, next_fire_ms, next_due_ms, watermark_ms, last_error';
export type FiringRow = Pick<ScheduleRow, 'workflow_id' | 'trigger_key' | 'workflow_version' | 'definition' | 'enabled' | 'next_fire_ms' | 'next_due_ms' | 'watermark_ms' | 'last_error'>;

export function toFiringRow(r: Record<string, unknown>): FiringRow {
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
 * firing right now and paused rows. The row lock is the claim: it lasts exactly as long as the transaction that
 * starts the runs and advances the rows, and a process that dies releases it with its connection.
 */
export async function lockDue(tx: Queryable, now: number, limit: number): Promise<FiringRow[]> {
  const res = await tx.query<Record<string, unknown>>(
    `SELECT ${FIRING_COLUMNS} FROM scheduler_triggers WHERE enabled AND next_due_ms <= $1 AND ${NOT_PAUSED}
      ORDER BY next_due_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return res.rows.map(toFiringRow);
}

/** Locks one row if it is still due and still expects `nextFire` (nobody fired it meanwhile). */
export async function lockOne(tx: Queryable, workflowId: string, key: string, nextFire: number, now: number): Promise<FiringRow[]> {
  const res = await tx.query<Record<string, unknown>>(
    `SELECT ${FIRING_COLUMNS} FROM scheduler_triggers WHERE workflow_id = $1 AND trigger_key = $2 AND enabled AND next_fire_ms = $3 AND next_due_ms <= $4
       AND ${NOT_PAUSED} FOR UPDATE SKIP LOCKED`,
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
