import { advanceJob, writeInstanceTimeline, type EngineContext } from './context.js';
import { runStarted } from './run-lifecycle.js';
import { parentOf, type ParentRef } from './run-links.js';
import { scheduleWorkflowTimeout } from './workflow-timeout.js';

export interface RestartResult {
  workflowId: string;
  workflowInstanceId: number;
  /** The new run. */
  runId: number;
  /** Steps carried over from the failed run (not run again). */
  carried: string[];
}

/**
 * A restart the engine refuses: no such instance (`not_found`), its latest run has not ended badly
 * (`conflict`), or it is a run another run started (`child_run`: a subworkflow run or a loop
 * iteration, with `parent` the step that started it — restart that parent run instead).
 */
export class RestartError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'child_run',
    message: string,
    readonly parent?: ParentRef,
  ) {
    super(message);
    this.name = 'RestartError';
  }
}

/**
 * Restarts an instance from its failed steps: a new run (run id + 1) of the same version and
 * params, in which every step that ended well in the latest run (and every step those decided
 * against) is carried over as it ended, so only the failed, stopped and never-started steps run.
 * The new run's steps therefore show the whole instance across runs. A STRICT_SEQUENTIAL block
 * by this instance is lifted.
 */
export async function restartInstance(ctx: EngineContext, workflowId: string, instanceId: number, reason = 'restarted by request'): Promise<RestartResult> {
  return ctx.queue.tx(async (tx, outbox) => {
    const last = (
      await tx.query<{ id: number; run_id: number; status: string; version: number; parent_attempt_pk: number | null; iteration: number | string | null }>(
        `SELECT id, run_id, status, version, parent_attempt_pk, iteration FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 ORDER BY run_id DESC LIMIT 1 FOR UPDATE`,
        [workflowId, instanceId],
      )
    ).rows[0];
    if (!last) throw new RestartError('not_found', `workflow ${workflowId} has no instance ${instanceId}`);
    const parent = await parentOf(tx, last.parent_attempt_pk, last.iteration, workflowId);
    if (parent) throw childRunError(workflowId, instanceId, parent);
    if (!['FAILED', 'STOPPED', 'TIMED_OUT'].includes(last.status)) {
      throw new RestartError('conflict', `instance ${workflowId}/${instanceId} run ${last.run_id} is ${last.status}: only a failed, stopped or timed-out run can be restarted`);
    }
    const runId = last.run_id + 1;
    const created = (
      await tx.query<{ id: number }>(
        `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, initiator, run_params, params, started_at)
         SELECT workflow_id, version, instance_id, $2, 'IN_PROGRESS', $3::jsonb, run_params, params, now()
         FROM baton_workflow_instances WHERE id = $1
         ON CONFLICT (workflow_id, instance_id, run_id) DO NOTHING RETURNING id`,
        [last.id, runId, JSON.stringify({ type: 'RESTART', fromRunId: last.run_id, reason })],
      )
    ).rows[0];
    if (!created) throw new RestartError('conflict', `instance ${workflowId}/${instanceId} is being restarted already`);
    const carried = await tx.query<{ id: number; step_id: string }>(
      `WITH old AS (
         SELECT DISTINCT ON (step_id) step_id, status, step_type, params, outputs, edges, reason, started_at, ended_at
         FROM baton_step_attempts WHERE instance_pk = $1 ORDER BY step_id, attempt_id DESC
       ), ins AS (
         INSERT INTO baton_step_attempts (instance_pk, step_id, attempt_id, status, step_type, params, outputs, edges, reason, started_at, ended_at)
         SELECT $2, step_id, 1, status, step_type, params, outputs, edges, reason, started_at, ended_at FROM old
         WHERE status IN ('SUCCEEDED', 'COMPLETED_WITH_ERROR', 'SKIPPED', 'UNSATISFIED')
         RETURNING id, step_id, status
       ), t AS (
         INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message)
         SELECT id, NULL, status, $3 FROM ins
       ) SELECT id, step_id FROM ins ORDER BY step_id`,
      [last.id, created.id, `carried over from run ${last.run_id}`],
    );
    await writeInstanceTimeline(tx, created.id, null, 'IN_PROGRESS', `${reason}: run ${runId} restarts run ${last.run_id} from its failed steps`);
    await tx.query('UPDATE baton_workflow_state SET blocked_by_instance = NULL WHERE workflow_id = $1 AND blocked_by_instance = $2', [workflowId, instanceId]);
    runStarted(ctx, outbox, workflowId);
    await outbox.add(advanceJob(created.id));
    await scheduleWorkflowTimeout(ctx, tx, outbox, await ctx.versions.require(workflowId, last.version, tx), created.id);
    return { workflowId, workflowInstanceId: instanceId, runId, carried: carried.rows.map((r) => r.step_id) };
  });
}

/**
 * A subworkflow run or loop iteration is not restarted on its own (Maestro restarts such a run
 * through its ancestors, never beside them): the parent step owns it, follows only the run it
 * started, and would never see a second one. Restarting the parent run runs that step again.
 */
function childRunError(workflowId: string, instanceId: number, parent: ParentRef): RestartError {
  const by = `${parent.workflowId} #${parent.instanceId} (run ${parent.runId})`;
  const what =
    parent.kind === 'SUBWORKFLOW'
      ? `a subworkflow run started by step ${parent.stepId} of ${by}`
      : `iteration ${parent.iteration ?? '?'} of ${parent.kind.toLowerCase()} step ${parent.stepId} of ${by}`;
  const again = parent.kind === 'SUBWORKFLOW' ? `step ${parent.stepId} starts a new run of ${workflowId.split('#')[0]}` : `the loop runs its unsuccessful iterations again`;
  return new RestartError(
    'child_run',
    `${workflowId} #${instanceId} is ${what}: it cannot be restarted on its own. Restart ${parent.workflowId} #${parent.instanceId} from its failed steps instead (POST /api/v3/workflows/${encodeURIComponent(parent.workflowId)}/instances/${parent.instanceId}/actions/restart): ${again}.`,
    parent,
  );
}
