import type { Queryable } from '@baton/engine-core';
import { SignalNotFoundError, TriggerPauseConflictError } from './errors.js';
import { ALL_SIGNAL_TRIGGERS } from './pause-sql.js';

export interface SignalPauseRequest {
  workflowId: string;
  /** One trigger (its id, as the trigger list shows it); absent: every signal trigger, present and future. */
  triggerId?: string;
  by?: string;
  reason?: string;
}

/**
 * Bumping the subscription generation waits for every match in flight (matchers hold the row FOR
 * SHARE while they match), and every later match reloads the index, which leaves paused
 * subscriptions out: a match that began before the pause commits completes, none after it sees
 * the trigger.
 */
async function bumpGeneration(tx: Queryable): Promise<void> {
  await tx.query('UPDATE signal_subscription_generation SET generation = generation + 1 WHERE id = 1');
}

async function activeTriggerIds(tx: Queryable, workflowId: string): Promise<string[]> {
  const res = await tx.query<{ trigger_id: string }>('SELECT trigger_id FROM signal_subscriptions WHERE workflow_id = $1 AND active ORDER BY trigger_id', [workflowId]);
  return res.rows.map((r) => r.trigger_id);
}

function unknownTrigger(workflowId: string, triggerId: string): SignalNotFoundError {
  return new SignalNotFoundError(`workflow "${workflowId}" has no signal trigger "${triggerId}"`);
}

/**
 * Pauses one signal trigger or all of a workflow's; returns whether anything changed. Idempotent.
 * Signals published while paused are ignored by the paused triggers, for good: they do not
 * count after activation either. Halves of a join collected before the pause wait on.
 */
export async function pauseSignalTriggersInTx(tx: Queryable, req: SignalPauseRequest): Promise<boolean> {
  await bumpGeneration(tx);
  if (req.triggerId !== undefined && !(await activeTriggerIds(tx, req.workflowId)).includes(req.triggerId)) throw unknownTrigger(req.workflowId, req.triggerId);
  const res = await tx.query(
    `INSERT INTO signal_trigger_pauses (workflow_id, trigger_id, paused_by, reason) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workflow_id, trigger_id) DO NOTHING RETURNING trigger_id`,
    [req.workflowId, req.triggerId ?? ALL_SIGNAL_TRIGGERS, req.by ?? null, req.reason ?? null],
  );
  return res.rows.length > 0;
}

export interface SignalActivation {
  changed: boolean;
  /** The triggers that become active (or would, in a dry run), with what they wait for. */
  resumed: Array<{ triggerId: string; signalNames: string[]; waitingCandidates: number }>;
}

/**
 * Activates one paused signal trigger, or every paused signal trigger of a workflow (removing the
 * workflow-wide pause too). An activated trigger counts signals published from now on, exactly as
 * a newly activated version does: nothing published during the pause starts a run, while the
 * halves of joins collected before the pause can still complete. With `dryRun` nothing changes.
 */
export async function activateSignalTriggersInTx(tx: Queryable, workflowId: string, triggerId: string | undefined, dryRun = false): Promise<SignalActivation> {
  if (!dryRun) await bumpGeneration(tx);
  const pauses = new Set((await tx.query<{ trigger_id: string }>('SELECT trigger_id FROM signal_trigger_pauses WHERE workflow_id = $1', [workflowId])).rows.map((r) => r.trigger_id));
  const active = await activeTriggerIds(tx, workflowId);
  if (triggerId !== undefined) {
    if (!active.includes(triggerId) && !pauses.has(triggerId)) throw unknownTrigger(workflowId, triggerId);
    if (pauses.has(ALL_SIGNAL_TRIGGERS)) {
      throw new TriggerPauseConflictError(`every signal trigger of workflow "${workflowId}" is paused; activate them all (without a trigger id) or pause the others one by one`);
    }
  }
  const resumedIds = active.filter((id) => (triggerId === undefined ? pauses.has(ALL_SIGNAL_TRIGGERS) || pauses.has(id) : id === triggerId && pauses.has(id)));
  const targets = triggerId === undefined ? [...pauses] : pauses.has(triggerId) ? [triggerId] : [];
  const details = await tx.query<{ trigger_id: string; signal_names: string[]; waiting: number | string }>(
    `SELECT s.trigger_id, s.signal_names,
            (SELECT count(*) FROM signal_trigger_candidates c WHERE c.workflow_id = s.workflow_id AND c.trigger_id = s.trigger_id) AS waiting
       FROM signal_subscriptions s WHERE s.workflow_id = $1 AND s.trigger_id = ANY($2::text[]) ORDER BY s.trigger_id`,
    [workflowId, resumedIds],
  );
  if (!dryRun && targets.length > 0) {
    await tx.query('DELETE FROM signal_trigger_pauses WHERE workflow_id = $1 AND trigger_id = ANY($2::text[])', [workflowId, targets]);
    await tx.query('UPDATE signal_subscriptions SET active_since = clock_timestamp(), updated_at = now() WHERE workflow_id = $1 AND trigger_id = ANY($2::text[])', [workflowId, resumedIds]);
  }
  return {
    changed: targets.length > 0,
    resumed: details.rows.map((r) => ({ triggerId: r.trigger_id, signalNames: r.signal_names, waitingCandidates: Number(r.waiting) })),
  };
}

/**
 * Workflows with a paused signal trigger (or a workflow-wide signal pause), optionally only among
 * `workflowIds`: what a workflow list shows as paused and filters on.
 */
export async function workflowsWithPausedSignalTriggers(q: Queryable, workflowIds?: readonly string[]): Promise<Set<string>> {
  const res = await q.query<{ workflow_id: string }>(
    `SELECT DISTINCT workflow_id FROM signal_trigger_pauses WHERE $1::text[] IS NULL OR workflow_id = ANY($1::text[])`,
    [workflowIds ?? null],
  );
  return new Set(res.rows.map((r) => r.workflow_id));
}
