/**
 * What happens around a run's lifetime that every path which starts or ends one shares: the
 * 'run.started' event, and the bookkeeping when an instance ends (STRICT_SEQUENTIAL blocking,
 * instance hooks, the next dispatch). Dispatch, stop, advance and restart all call it; it calls
 * none of them.
 */
import type { Queryable } from '../db/db.js';
import type { Outbox } from '../queue/queue.js';
import { dispatchJob, type CachedVersion, type EngineContext } from './context.js';
import { instanceHooksNoting } from './hooks.js';
import { isInlineWorkflowId } from './inline-definitions.js';

/**
 * 'run.started' (workflow id) once the transaction that began a run commits, in the process that
 * committed it: a run leaving CREATED here (to IN_PROGRESS, or FAILED on its workflow params), or
 * a restart's new run. Loop iterations are the loop step's business and are not runs.
 */
export function runStarted(ctx: EngineContext, outbox: Outbox, workflowId: string): void {
  if (!isInlineWorkflowId(workflowId)) outbox.afterCommit(() => ctx.events.emit('run.started', workflowId));
}

/**
 * Bookkeeping when an instance reaches a terminal status: STRICT_SEQUENTIAL blocking, the
 * instance hooks, and a dispatch so the run strategy can start the next queued instance.
 * Loop iterations (inline workflow ids) skip the run strategy: they are created running, never
 * queue, and have no workflow state row, so a dispatch for them would find nothing to do.
 */
export async function afterInstanceEnded(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  def: CachedVersion,
  inst: { id: number; instance_id: number; run_id: number; version: number; parent_attempt_pk?: number | null },
  status: 'SUCCEEDED' | 'FAILED' | 'STOPPED' | 'TIMED_OUT',
  reason: string | null,
): Promise<void> {
  const inline = isInlineWorkflowId(def.workflowId);
  if (!inline && status === 'FAILED' && def.properties.runStrategy?.rule === 'STRICT_SEQUENTIAL') {
    await tx.query('UPDATE baton_workflow_state SET blocked_by_instance = $2 WHERE workflow_id = $1 AND blocked_by_instance IS NULL', [
      def.workflowId,
      inst.instance_id,
    ]);
  }
  const event = {
    workflowId: def.workflowId,
    version: inst.version,
    instanceId: Number(inst.instance_id),
    runId: inst.run_id,
    instancePk: inst.id,
    status,
    reason,
    ...(inst.parent_attempt_pk !== undefined ? { parentAttemptPk: inst.parent_attempt_pk === null ? null : Number(inst.parent_attempt_pk) } : {}),
  };
  await instanceHooksNoting(tx, outbox, ctx.instanceHooks, event);
  if (!inline) await outbox.add(dispatchJob(def.workflowId, inst.id));
  outbox.afterCommit(() => ctx.events.emit('instance.completed', event));
}
