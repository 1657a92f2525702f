/**
 * Steps that finish inside the advance that starts them. A step whose runtime does nothing and
 * returns at once (the built-in NoOp), with no params of its own, no gate that may close for it
 * and no breakpoint on its workflow, would cost a queue job, two fenced updates outside any
 * transaction and a transaction of its own, only to record what is known when it is granted:
 * it succeeds. The advance records that in its own transaction instead, under the instance's
 * row lock, with the same timeline, hooks and events as the step job, and goes on advancing
 * with the ending it knows (no re-read) unless a hook changed it.
 *
 * Exactly once: the attempt becomes INITIALIZED in this transaction (inserted, or granted a
 * permit by an update that only one transaction wins), no step job is ever added for it, and a
 * rollback undoes it all — the advance job then runs again and decides anew.
 */
import type { Queryable } from '../db/db.js';
import type { Outbox } from '../queue/queue.js';
import type { CachedVersion, EngineContext, StepRef } from './context.js';
import { decodeParams, encodeParams } from './params.js';
import { noOpRuntime } from './step-runtime.js';
import type { StepStatus } from './status.js';
import { runStepHooks } from './hooks.js';
import { endAfterHookFailure } from './step-ending.js';
import { evaluateEdges, evaluateStepParams } from './step-evaluation.js';

/** The instance as the advance reads it under its row lock. */
export interface AdvancedInstance {
  id: number;
  workflow_id: string;
  version: number;
  instance_id: number;
  run_id: number;
  params: unknown;
  /** Whether any breakpoint is set on the instance's (top-level) workflow. */
  breakpoints: boolean;
}

/** Whether `stepId` of `def` may finish inline (see the file comment). */
export function runsInline(ctx: EngineContext, def: CachedVersion, stepId: string, inst: AdvancedInstance): boolean {
  if (inst.breakpoints) return false;
  const step = def.dag.steps.get(stepId);
  if (!step || step.kind !== 'step') return false;
  if (ctx.runtimes.get(step.type) !== noOpRuntime) return false;
  if (Object.keys(step.params).length > 0) return false;
  for (const gate of ctx.gates.values()) if (!gate.mayClose || gate.mayClose(def, stepId)) return false;
  return true;
}

/** How an inline step ended: its status and edges, or 'reread' when hooks (or a race) changed what was written. */
export type InlineEnding = { status: StepStatus; edges: Record<string, boolean> | null } | 'reread';

/**
 * Runs an INITIALIZED attempt of an inline step to its ending in `tx`, in one statement with the
 * timeline the step job writes (INITIALIZED → EVALUATING_PARAMS → RUNNING → SUCCEEDED, reserved
 * params, outgoing edges), then the step completion hooks as the step job's ending runs them,
 * without asking for another advance: the caller goes on advancing.
 */
export async function completeInline(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  def: CachedVersion,
  inst: AdvancedInstance,
  attempt: { id: number; step_id: string },
): Promise<InlineEnding> {
  const step = def.dag.steps.get(attempt.step_id)!;
  if (step.kind !== 'step') return 'reread';
  const started = performance.now();
  const ref: StepRef = {
    workflowId: inst.workflow_id,
    version: inst.version,
    instanceId: Number(inst.instance_id),
    runId: inst.run_id,
    instancePk: Number(inst.id),
    stepId: attempt.step_id,
    attemptId: 1,
    attemptPk: Number(attempt.id),
  };
  const workflowParams = decodeParams(inst.params);
  const own = await evaluateStepParams(ctx, tx, def, ref, step, workflowParams);
  const merged = { ...workflowParams, ...own };
  let status: StepStatus = 'SUCCEEDED';
  let message: string | null = null;
  let edges: Record<string, boolean> | null = null;
  try {
    edges = await evaluateEdges(ctx, tx, { ref, def, step, stepType: step.type, generation: 0, merged, own }, merged);
  } catch (e) {
    status = 'FATALLY_FAILED';
    message = (e as Error).message;
  }
  const res = await tx.query(
    `WITH u AS (
       UPDATE baton_step_attempts SET status = $2, reason = $3, params = $4::jsonb, outputs = '{}'::jsonb, edges = $5::jsonb,
         started_at = now(), ended_at = now(), updated_at = now()
       WHERE id = $1 AND generation = 0 AND status = 'INITIALIZED' RETURNING id
     ), t AS (
       INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message)
       SELECT u.id, x.f, x.t, x.m FROM u, unnest($6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS x(f, t, m, o) ORDER BY x.o
     ) SELECT id FROM u`,
    [
      ref.attemptPk, status, message, encodeParams(own), edges ? JSON.stringify(edges) : null,
      ['INITIALIZED', 'EVALUATING_PARAMS', 'RUNNING'],
      ['EVALUATING_PARAMS', 'RUNNING', status],
      ['gates open', `params evaluated; ${step.type} runtime called`, message ?? 'runtime finished'],
    ],
  );
  if (res.rows.length === 0) return 'reread';
  // The runtime was called (its ending recorded) now: the launch latency runs from the permit
  // (the advance's readyAt), the duration from the attempt's start above; both are reported once
  // the transaction commits, in this process, as the step job reports them.
  const t = performance.now();
  outbox.afterCommit(() => {
    ctx.events.emit('step.launch', ref.attemptPk, t);
    ctx.events.emit('step.ended', step.type, status, Math.max(0, t - started) / 1000);
  });
  const failed = await runStepHooks(tx, outbox, ctx.stepHooks, { ...ref, status, params: own, outputs: {} });
  if (!failed) return { status, edges };
  await endAfterHookFailure(ctx, tx, outbox, ref, status, message, own, {}, failed);
  return 'reread';
}
