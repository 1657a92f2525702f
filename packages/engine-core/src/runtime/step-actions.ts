import type { Queryable } from '../db/db.js';
import { walkSteps, type Step } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { releasePauses } from './breakpoints.js';
import { stepHooksNoting } from './hooks.js';
import { advanceJob, stepJob, writeStepTimeline, type CachedVersion, type EngineContext, type StepRef } from './context.js';
import { stopChildren } from './foreach.js';
import { inlineWorkflowId } from './inline-definitions.js';
import { decodeParams, type EvaluatedParams } from './params.js';
import { STEP_TERMINAL, type StepStatus } from './status.js';
import { StepActionError } from './step-action-error.js';
import { evaluateEdges, evaluateStepParams } from './step-evaluation.js';

/**
 * What an operator can do to one step of a running instance (Maestro's step actions):
 * `resume` a step paused at a breakpoint; `skip` a step that has not ended (it ends SKIPPED and
 * the DAG goes on as if it had succeeded); `stop` it (STOPPED: the instance ends STOPPED) or
 * `kill` it (FATALLY_FAILED, never retried: the instance fails per the step's failure mode).
 */
export const STEP_ACTIONS = ['resume', 'skip', 'stop', 'kill'] as const;
export type StepAction = (typeof STEP_ACTIONS)[number];

export interface StepActionResult {
  workflowId: string;
  workflowInstanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  /** The attempt's status after the action. */
  status: StepStatus;
}

const ENDING: Record<Exclude<StepAction, 'resume'>, { status: StepStatus; verb: string }> = {
  skip: { status: 'SKIPPED', verb: 'skipped' },
  stop: { status: 'STOPPED', verb: 'stopped' },
  kill: { status: 'FATALLY_FAILED', verb: 'killed' },
};

interface AttemptRow {
  id: number;
  attempt_id: number;
  status: StepStatus;
  generation: number;
  params: unknown;
}

/**
 * Applies a step action to the latest attempt of a step in the latest run of an instance. A step
 * inside a foreach or while loop is addressed in its iteration: the workflow id `wf#loop` (the
 * inline workflow of the loop) and the iteration's instance id. Throws StepActionError:
 * not_found for an unknown instance or step, conflict when the step is in the wrong state.
 */
export async function applyStepAction(
  ctx: EngineContext,
  workflowId: string,
  instanceId: number,
  stepId: string,
  action: StepAction,
  reason?: string,
): Promise<StepActionResult> {
  if (!STEP_ACTIONS.includes(action)) throw new StepActionError('invalid', `unknown step action ${String(action)}: expected one of ${STEP_ACTIONS.join(', ')}`);
  return ctx.queue.tx(async (tx, outbox) => {
    // The instance row lock serialises the action with the instance's advance.
    const inst = (
      await tx.query<{ id: number; version: number; run_id: number; status: string; params: unknown }>(
        `SELECT id, version, run_id, status, params FROM baton_workflow_instances
         WHERE workflow_id = $1 AND instance_id = $2 ORDER BY run_id DESC LIMIT 1 FOR UPDATE`,
        [workflowId, instanceId],
      )
    ).rows[0];
    if (!inst) throw new StepActionError('not_found', `workflow ${workflowId} has no instance ${instanceId}`);
    const def = await ctx.versions.require(workflowId, inst.version, tx);
    const step = def.dag.steps.get(stepId);
    if (!step) throw new StepActionError('not_found', missingStep(def, workflowId, stepId));
    const where = `step ${stepId} of ${workflowId} instance ${instanceId} run ${inst.run_id}`;
    if (inst.status !== 'IN_PROGRESS') throw new StepActionError('conflict', `${where}: the instance is ${inst.status}, step actions need a running instance`);
    const row = (
      await tx.query<AttemptRow>(
        `SELECT id, attempt_id, status, generation, params FROM baton_step_attempts
         WHERE instance_pk = $1 AND step_id = $2 ORDER BY attempt_id DESC LIMIT 1 FOR UPDATE`,
        [inst.id, stepId],
      )
    ).rows[0];
    if (!row) throw new StepActionError('conflict', `${where} has not been created yet (NOT_CREATED): it cannot be ${action === 'resume' ? 'resumed' : ENDING[action].verb}`);
    const ref: StepRef = {
      workflowId, version: inst.version, instanceId, runId: inst.run_id, instancePk: inst.id,
      stepId, attemptId: row.attempt_id, attemptPk: Number(row.id),
    };
    const result = { workflowId, workflowInstanceId: instanceId, runId: inst.run_id, stepId, attemptId: row.attempt_id };
    const by = reason?.trim() ? reason.trim() : `${action === 'resume' ? 'resumed' : ENDING[action].verb} by request`;

    if (action === 'resume') {
      if (row.status !== 'PAUSED') throw new StepActionError('conflict', `${where} attempt ${row.attempt_id} is ${row.status}, not paused at a breakpoint`);
      const released = await releasePauses(tx, outbox, { attemptPk: ref.attemptPk }, by);
      if (released === 0) throw new StepActionError('conflict', `${where} attempt ${row.attempt_id} was already resumed`);
      return { ...result, status: row.status };
    }

    const { status, verb } = ENDING[action];
    if (STEP_TERMINAL.has(row.status)) {
      throw new StepActionError('conflict', `${where} attempt ${row.attempt_id} already ended ${row.status}: only a step that has not ended can be ${verb}`);
    }
    let edges: Record<string, boolean> | null = null;
    let message = by;
    let own = decodeParams(row.params);
    if (action === 'skip') {
      const workflowParams = decodeParams(inst.params);
      if (row.params === null) own = await ownParams(ctx, tx, def, ref, step, workflowParams);
      const evaluated = await skipEdges(ctx, tx, def, ref, step, row.generation, { ...workflowParams, ...own }, own);
      edges = evaluated.edges;
      if (evaluated.failed.length) message = `${by}; taken as false: ${evaluated.failed.join('; ')}`;
    }
    const ended = await endByAction(ctx, tx, outbox, ref, row, status, message, edges);
    if (step.kind !== 'step') await stopChildren(ctx, tx, outbox, ref.attemptPk, `step ${stepId} ${verb}`);
    await stepHooksNoting(tx, outbox, ctx.stepHooks, { ...ref, status, params: own, outputs: {} });
    await outbox.add(advanceJob(inst.id));
    return { ...result, status: ended };
  });
}

/**
 * Ends the attempt with a new generation (its runner can no longer record a result), deletes its
 * job (a remote runner's next lease renewal fails and aborts it) and aborts a runner here after
 * commit — as stopping the whole instance does.
 */
async function endByAction(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  ref: StepRef,
  row: AttemptRow,
  to: StepStatus,
  message: string,
  edges: Record<string, boolean> | null,
): Promise<StepStatus> {
  const res = await tx.query(
    `UPDATE baton_step_attempts SET status = $2, generation = generation + 1, reason = $3, edges = $4::jsonb,
       ended_at = now(), updated_at = now()
     WHERE id = $1 AND status = $5`,
    [ref.attemptPk, to, message, edges ? JSON.stringify(edges) : null, row.status],
  );
  if (res.rowCount === 0) throw new StepActionError('conflict', `step ${ref.stepId} attempt ${ref.attemptId} changed while the action ran: try again`);
  await writeStepTimeline(tx, [{ attemptPk: ref.attemptPk, from: row.status, to, message }]);
  await tx.query('DELETE FROM baton_jobs WHERE job_key = $1', [stepJob(ref.attemptPk).key]);
  outbox.afterCommit(() => ctx.running.get(ref.attemptPk)?.abort(new Error(message)));
  return to;
}

/** A skipped step's own params: as evaluated, or evaluated now if it never got that far. */
async function ownParams(ctx: EngineContext, tx: Queryable, def: CachedVersion, ref: StepRef, step: Step, workflowParams: EvaluatedParams): Promise<EvaluatedParams> {
  try {
    return await evaluateStepParams(ctx, tx, def, ref, step, workflowParams);
  } catch {
    // A skip must not hinge on params the step would have failed on: conditions see the workflow's.
    return {};
  }
}

/**
 * The outgoing conditions of a skipped step, each on its own, so one that cannot be evaluated
 * (it reads an output the step never produced) counts as false instead of blocking the skip.
 */
async function skipEdges(
  ctx: EngineContext,
  tx: Queryable,
  def: CachedVersion,
  ref: StepRef,
  step: Step,
  generation: number,
  merged: EvaluatedParams,
  own: EvaluatedParams,
): Promise<{ edges: Record<string, boolean>; failed: string[] }> {
  const edges: Record<string, boolean> = {};
  const failed: string[] = [];
  for (const [succ, cond] of Object.entries(step.transition.successors)) {
    const one: Step = { ...step, transition: { ...step.transition, successors: { [succ]: cond } } };
    try {
      Object.assign(edges, await evaluateEdges(ctx, tx, { ref, def, step: one, stepType: step.kind, generation, merged, own }, merged));
    } catch (e) {
      edges[succ] = false;
      failed.push((e as Error).message);
    }
  }
  return { edges, failed };
}

function missingStep(def: CachedVersion, workflowId: string, stepId: string): string {
  let loop: string | undefined;
  walkSteps(def.workflow.steps, (s, parents) => {
    if (s.id === stepId && parents.length > 0) loop = parents.map((p) => p.id).reduce((id, p) => inlineWorkflowId(id, p), workflowId);
  });
  return loop
    ? `step ${stepId} runs inside a loop: address it in its iteration, as workflow ${loop} and the iteration's instance id`
    : `workflow ${workflowId} version ${def.version} has no step ${stepId}`;
}
