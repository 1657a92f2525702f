import type { ForeachStep, Step, WhileStep } from '../definition/model.js';
import { writeStepTimeline, type CachedVersion, type EngineContext, type StepRef } from './context.js';
import { loopAxes } from './foreach.js';
import { loopJob, loopLimits } from './loop-helpers.js';
import { encodeParams, type EvaluatedParams } from './params.js';
import { beginSubworkflow } from './subworkflow.js';
import type { StepStatus } from './status.js';
import { endAttempt, finish, guardedTransition } from './step-ending.js';
import { evaluateStepParams } from './step-evaluation.js';

export interface CompositeStart {
  ref: StepRef;
  def: CachedVersion;
  step: Exclude<Step, { kind: 'step' }>;
  generation: number;
  /** The attempt's status when its step job took it over. */
  from: StepStatus;
  workflowParams: EvaluatedParams;
  /** The attempt's stored params (set once it is RUNNING). */
  stored: unknown;
}

/**
 * Starts (or, once RUNNING, wakes up) a step that runs child instances rather than a runtime:
 * evaluates its params, records RUNNING with the loop's cursor, and hands it to its controller
 * job. Called by the step job after the gates opened.
 */
export async function beginComposite(ctx: EngineContext, c: CompositeStart): Promise<void> {
  const { ref } = c;
  if (c.from === 'RUNNING') {
    // Through an outbox so this process's worker is woken at once (PGlite has no NOTIFY).
    await ctx.queue.tx((_tx, outbox) => outbox.add(loopJob(ref.attemptPk)));
    return;
  }
  const fail = async (to: StepStatus, message: string, own: EvaluatedParams = {}): Promise<void> => {
    await ctx.queue.tx(async (tx, outbox) => {
      await writeStepTimeline(tx, [{ attemptPk: ref.attemptPk, from: c.from, to: 'EVALUATING_PARAMS', message: 'gates open' }]);
      await endAttempt(ctx, tx, outbox, ref, c.generation, 'EVALUATING_PARAMS', to, message, own, null, {});
    });
  };
  if (c.step.kind === 'subworkflow') {
    const { workflowParams, generation, from, def } = c;
    return beginSubworkflow(ctx, { ref, def, step: c.step, generation, from, workflowParams, depthLimit: loopLimits(ctx).subworkflowDepth });
  }
  const step: ForeachStep | WhileStep = c.step;
  let own: EvaluatedParams;
  let total: number;
  let carried: EvaluatedParams | null = null;
  try {
    own = await evaluateStepParams(ctx, ctx.db, c.def, ref, { ...step, params: { ...step.params, ...step.loopParams } }, c.workflowParams);
    if (step.kind === 'foreach') {
      total = loopAxes(step, own, loopLimits(ctx).foreachIterations).total;
    } else {
      // A while loop's "total" is its iteration limit; its loop params start from their definitions.
      total = loopLimits(ctx).whileIterations;
      carried = {};
      for (const name of Object.keys(step.loopParams)) if (own[name]) carried[name] = own[name];
    }
  } catch (e) {
    return fail('USER_FAILED', (e as Error).message);
  }
  const described = step.kind === 'foreach' ? `${total} iterations` : `at most ${total} iterations`;
  await ctx.queue.tx(async (tx, outbox) => {
    const started = await guardedTransition(tx, ref.attemptPk, c.generation, c.from, 'RUNNING', { params: encodeParams(own), started: true }, [
      { from: c.from, to: 'EVALUATING_PARAMS', message: 'gates open' },
      { from: 'EVALUATING_PARAMS', to: 'RUNNING', message: `loop params evaluated: ${described}` },
    ]);
    if (!started) return;
    if (total === 0 && step.kind === 'foreach') {
      const target = { ref, def: c.def, step, stepType: step.kind, generation: c.generation, merged: { ...c.workflowParams, ...own }, own };
      await finish(ctx, tx, outbox, target, { status: 'SUCCEEDED', message: 'no iterations: a loop param is empty' });
      return;
    }
    // In a restarted run, the same foreach step's last attempt in the run before (see foreach.ts).
    await tx.query(
      `INSERT INTO baton_loop_state (attempt_pk, total, carried, previous_attempt_pk)
       SELECT $1, $2, $3::jsonb, (
         SELECT a.id FROM baton_workflow_instances cur
         JOIN baton_workflow_instances prev ON prev.workflow_id = cur.workflow_id AND prev.instance_id = cur.instance_id AND prev.run_id = cur.run_id - 1
         JOIN baton_step_attempts a ON a.instance_pk = prev.id AND a.step_id = $5
         WHERE cur.id = $4 AND $6::boolean ORDER BY a.attempt_id DESC LIMIT 1
       )
       ON CONFLICT (attempt_pk) DO NOTHING`,
      [ref.attemptPk, total, carried ? encodeParams(carried) : null, ref.instancePk, ref.stepId, step.kind === 'foreach'],
    );
    await outbox.add(loopJob(ref.attemptPk));
  });
}
