import type { Queryable } from '@baton/engine-core';
import { stableJitterMs } from './cron/jitter.js';
import { compileTrigger, type CompileOptions } from './cron/trigger.js';
import { FIRING_COLUMNS, toFiringRow, type FiringRow } from './firing-sql.js';
import { ALL_TRIGGERS } from './pause-sql.js';
import { planFires, type PlannedFire } from './plan.js';

/** A trigger id that none of the workflow's time triggers has. */
export class UnknownTriggerError extends Error {
  override readonly name = 'UnknownTriggerError';
  constructor(
    readonly workflowId: string,
    readonly triggerId: string,
    kind: 'time' | 'signal',
  ) {
    super(`workflow "${workflowId}" has no ${kind} trigger "${triggerId}"`);
  }
}

/** Activating one trigger while every trigger of its kind is paused as a whole. */
export class PauseConflictError extends Error {
  override readonly name = 'PauseConflictError';
}

export interface PauseRequest {
  workflowId: string;
  /** One trigger (its key, as the schedule lists it); absent: every time trigger, present and future. */
  triggerKey?: string;
  by?: string;
  reason?: string;
}

export interface ActivationPreview {
  triggerKey: string;
  expression: string;
  timezone: string;
  catchUp: { policy: string; maxRuns: number };
  /** What the scheduler starts as soon as the trigger is active again (ascending). */
  wouldStart: PlannedFire[];
  /** Fire times that came due while paused and that the catch-up policy drops. */
  wouldSkip: number;
  /** The first fire time after those (null: never again). */
  nextFireMs: number | null;
}

/**
 * Locks the workflow's schedule rows. A firing transaction holds its rows' locks until it commits,
 * so this waits for every fire claimed before the pause (or activation): those runs start, and
 * once the pause commits no process claims the rows again (the firing query skips paused rows).
 */
async function lockRows(tx: Queryable, workflowId: string): Promise<FiringRow[]> {
  const res = await tx.query<Record<string, unknown>>(`SELECT ${FIRING_COLUMNS} FROM scheduler_triggers WHERE workflow_id = $1 ORDER BY trigger_key FOR UPDATE`, [workflowId]);
  return res.rows.map(toFiringRow);
}

/** Pauses one time trigger or all of a workflow's; returns whether anything changed. Idempotent. */
export async function pauseTimeTriggersInTx(tx: Queryable, req: PauseRequest): Promise<boolean> {
  const rows = await lockRows(tx, req.workflowId);
  if (req.triggerKey !== undefined && !rows.some((r) => r.trigger_key === req.triggerKey)) {
    throw new UnknownTriggerError(req.workflowId, req.triggerKey, 'time');
  }
  const res = await tx.query(
    `INSERT INTO scheduler_pauses (workflow_id, trigger_key, paused_by, reason) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workflow_id, trigger_key) DO NOTHING RETURNING trigger_key`,
    [req.workflowId, req.triggerKey ?? ALL_TRIGGERS, req.by ?? null, req.reason ?? null],
  );
  return res.rows.length > 0;
}

export interface ActivateOptions {
  now: number;
  /** Due fire times older than this follow the catch-up policy (activation uses 0: every fire time that came due while paused). */
  graceMs: number;
  compile?: CompileOptions;
  /** Only say what activation would start; change nothing. */
  dryRun?: boolean;
}

/**
 * Activates one paused time trigger, or every paused time trigger of a workflow (removing the
 * workflow-wide pause too), and says per trigger what to start at once: the fire times that came
 * due while paused, as the trigger's catch-up policy decides (the firing transaction's plan).
 * Returns the resumed rows, locked, for the caller to fire in the same transaction. Activating
 * one trigger while the whole workflow's time triggers are paused is a PauseConflictError.
 */
export async function activateTimeTriggersInTx(tx: Queryable, workflowId: string, triggerKey: string | undefined, opts: ActivateOptions): Promise<{ changed: boolean; previews: ActivationPreview[]; resumed: FiringRow[] }> {
  const rows = await lockRows(tx, workflowId);
  const pauses = new Set((await tx.query<{ trigger_key: string }>('SELECT trigger_key FROM scheduler_pauses WHERE workflow_id = $1', [workflowId])).rows.map((r) => r.trigger_key));
  if (triggerKey !== undefined) {
    if (!rows.some((r) => r.trigger_key === triggerKey) && !pauses.has(triggerKey)) throw new UnknownTriggerError(workflowId, triggerKey, 'time');
    if (pauses.has(ALL_TRIGGERS)) {
      throw new PauseConflictError(`every time trigger of workflow "${workflowId}" is paused; activate them all (without a trigger id) or pause the others one by one`);
    }
  }
  const resumed = rows.filter((r) => (triggerKey === undefined ? pauses.has(ALL_TRIGGERS) || pauses.has(r.trigger_key) : r.trigger_key === triggerKey && pauses.has(triggerKey)));
  const previews: ActivationPreview[] = [];
  for (const row of resumed) {
    if (!row.enabled || row.next_fire_ms === null) continue;
    let trigger;
    try {
      trigger = compileTrigger(row.definition, opts.compile);
    } catch {
      continue; // an invalid trigger is disabled and says why in last_error
    }
    const jitter = stableJitterMs(workflowId, row.trigger_key, trigger.fuzzyMaxDelayMs);
    const plan = planFires(trigger, jitter, row.next_fire_ms, row.watermark_ms, opts.now, opts.graceMs);
    previews.push({
      triggerKey: row.trigger_key,
      expression: trigger.expression,
      timezone: trigger.timezone,
      catchUp: { policy: trigger.catchUp.policy, maxRuns: trigger.catchUp.maxRuns },
      wouldStart: plan.start,
      wouldSkip: plan.skipped,
      nextFireMs: plan.nextFireMs,
    });
  }
  const targets = triggerKey === undefined ? [...pauses] : pauses.has(triggerKey) ? [triggerKey] : [];
  if (!opts.dryRun && targets.length > 0) {
    await tx.query('DELETE FROM scheduler_pauses WHERE workflow_id = $1 AND trigger_key = ANY($2::text[])', [workflowId, targets]);
  }
  return { changed: targets.length > 0, previews, resumed };
}

/**
 * Workflows with a paused time trigger (or a workflow-wide time pause), optionally only among
 * `workflowIds`: what a workflow list shows as paused and filters on.
 */
export async function workflowsWithPausedTimeTriggers(q: Queryable, workflowIds?: readonly string[]): Promise<Set<string>> {
  const res = await q.query<{ workflow_id: string }>(
    `SELECT DISTINCT workflow_id FROM scheduler_pauses WHERE $1::text[] IS NULL OR workflow_id = ANY($1::text[])`,
    [workflowIds ?? null],
  );
  return new Set(res.rows.map((r) => r.workflow_id));
}
