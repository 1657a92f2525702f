/**
 * How a step attempt ends, for every kind of step (runtime steps, loops, subworkflows): the fenced
 * status change, the result with its outputs and outgoing edges, retries and the step hooks. This
 * is the step job's contract: the kinds of step import it, and it imports none of them.
 */
import type { Queryable } from '../db/db.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, writeStepTimeline, type EngineContext, type StepRef } from './context.js';
import { encodeParams, toTypedValue, type EvaluatedParams } from './params.js';
import type { StepResult } from './step-runtime.js';
import type { StepStatus } from './status.js';
import { planRetry, scheduleRetry } from './retry.js';
import { hookFailureText, runStepHooks, stepHooksNoting, type HookFailure } from './hooks.js';
import type { AttemptTarget } from './attempt-target.js';
import { evaluateEdges } from './step-evaluation.js';

/**
 * One statement: `from` → `to` if the attempt is still at `from` under this generation, plus its
 * timeline rows. Returns the attempt's start time when it moved, undefined when it was fenced out.
 */
export async function guardedTransition(
  q: Queryable,
  attemptPk: number,
  generation: number,
  from: StepStatus,
  to: StepStatus,
  set: { params?: string; started?: boolean },
  entries: { from: string | null; to: string | null; message: string }[],
): Promise<Date | undefined> {
  const res = await q.query<{ started_at: Date | string | null }>(
    `WITH u AS (
       UPDATE baton_step_attempts SET status = $4, params = COALESCE($5::jsonb, params),
         started_at = CASE WHEN $6::boolean THEN now() ELSE started_at END, updated_at = now()
       WHERE id = $1 AND generation = $2 AND status = $3 RETURNING id, started_at
     ), t AS (
       INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message)
       SELECT u.id, x.f, x.t, x.m FROM u, unnest($7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS x(f, t, m, o) ORDER BY x.o
     ) SELECT started_at FROM u`,
    [attemptPk, generation, from, to, set.params ?? null, set.started ?? false, entries.map((e) => e.from), entries.map((e) => e.to), entries.map((e) => e.message)],
  );
  const r = res.rows[0];
  return r ? new Date(r.started_at ?? Date.now()) : undefined;
}

/** Records a runtime's (or a loop's) result: outputs, IGNORE_FAILURE, outgoing edges, the ending. */
export async function finish(ctx: EngineContext, tx: Queryable, outbox: Outbox, launch: AttemptTarget, result: StepResult): Promise<void> {
  let status: StepStatus = result.status;
  let message = result.message ?? null;
  let outputs: EvaluatedParams = {};
  try {
    for (const [k, v] of Object.entries(result.outputs ?? {})) outputs[k] = toTypedValue(k, undefined, v);
  } catch (e) {
    status = 'PLATFORM_FAILED';
    message = `step runtime ${launch.stepType} returned a bad output: ${(e as Error).message}`;
    outputs = {};
  }
  // Retries come first: IGNORE_FAILURE applies once no retry is left.
  let retry: Awaited<ReturnType<typeof planRetry>>;
  if (status !== 'SUCCEEDED') {
    try {
      retry = await planRetry(tx, launch, status);
    } catch (e) {
      message = `${message ?? status}; not retried: ${(e as Error).message}`;
    }
  }
  if (retry) {
    if (await endAttempt(ctx, tx, outbox, launch.ref, launch.generation, 'RUNNING', status, message, launch.own, null, outputs)) {
      await scheduleRetry(ctx, tx, outbox, launch, retry, status);
    }
    return;
  }
  if (status !== 'SUCCEEDED' && launch.step.failureMode === 'IGNORE_FAILURE') {
    message = `${status} ignored (failure mode IGNORE_FAILURE)${message ? `: ${message}` : ''}`;
    status = 'COMPLETED_WITH_ERROR';
  }
  let edges: Record<string, boolean> | null = null;
  if (status === 'SUCCEEDED' || status === 'COMPLETED_WITH_ERROR') {
    try {
      edges = await evaluateEdges(ctx, tx, launch, { ...launch.merged, ...outputs });
    } catch (e) {
      status = 'FATALLY_FAILED';
      message = (e as Error).message;
      edges = null;
    }
  }
  await endAttempt(ctx, tx, outbox, launch.ref, launch.generation, 'RUNNING', status, message, launch.own, edges, outputs);
}

/**
 * Records a terminal status (fenced), runs the completion hooks and asks for an advance (unless
 * `advance` is false: the caller is the instance's advance itself, which goes on in the same
 * transaction). Once that commits, emits 'step.ended' (step type, status, seconds since the
 * attempt started) for an attempt that had started.
 */
export async function endAttempt(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  ref: StepRef,
  generation: number,
  from: StepStatus,
  to: StepStatus,
  message: string | null,
  params: EvaluatedParams,
  edges: Record<string, boolean> | null,
  outputs: EvaluatedParams,
  advance = true,
): Promise<boolean> {
  const res = await tx.query<{ step_type: string | null; seconds: number | null }>(
    `WITH u AS (
       UPDATE baton_step_attempts SET status = $3, reason = $4, params = COALESCE($5::jsonb, params), outputs = $6::jsonb,
         edges = $7::jsonb, ended_at = now(), updated_at = now()
       WHERE id = $1 AND generation = $2 AND status IN ('INITIALIZED', 'PAUSED', 'WAITING_FOR_SIGNALS', 'RUNNING')
       RETURNING id, step_type, EXTRACT(EPOCH FROM ended_at - started_at)::float8 AS seconds
     ), t AS (
       INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message) SELECT id, $8, $3, $9 FROM u
     ) SELECT step_type, seconds FROM u`,
    [
      ref.attemptPk, generation, to, message,
      Object.keys(params).length ? encodeParams(params) : null, encodeParams(outputs), edges ? JSON.stringify(edges) : null,
      from, message ?? (to === 'SUCCEEDED' ? 'runtime finished' : to),
    ],
  );
  const ended = res.rows[0];
  if (!ended) return false;
  if (ended.seconds !== null) outbox.afterCommit(() => ctx.events.emit('step.ended', ended.step_type ?? 'unknown', to, Math.max(0, Number(ended.seconds))));
  const failed = await runStepHooks(tx, outbox, ctx.stepHooks, { ...ref, status: to, params, outputs });
  if (failed) await endAfterHookFailure(ctx, tx, outbox, ref, to, message, params, outputs, failed);
  if (advance) await outbox.add(advanceJob(ref.instancePk));
  return true;
}

/**
 * A completion hook failed on an ending just recorded (its writes were undone): a step that ended
 * well fails FATALLY_FAILED — or, with failure mode IGNORE_FAILURE, COMPLETED_WITH_ERROR — with a
 * reason naming the hook and its error; a step that already failed keeps its status and gets the
 * hook's error added to its reason. The hooks then see the new ending; failing again only adds
 * to the reason, so the ending always commits.
 */
export async function endAfterHookFailure(
  ctx: EngineContext,
  tx: Queryable,
  outbox: Outbox,
  ref: StepRef,
  to: StepStatus,
  message: string | null,
  params: EvaluatedParams,
  outputs: EvaluatedParams,
  failed: HookFailure,
): Promise<void> {
  const text = hookFailureText('step completion', failed);
  let status = to;
  let reason = message ? `${message}; ${text}` : text;
  if (to === 'SUCCEEDED' || to === 'COMPLETED_WITH_ERROR') {
    const def = await ctx.versions.get(ref.workflowId, ref.version, tx);
    if (def?.dag.steps.get(ref.stepId)?.failureMode === 'IGNORE_FAILURE') {
      status = 'COMPLETED_WITH_ERROR';
      reason = `FATALLY_FAILED ignored (failure mode IGNORE_FAILURE): ${text}`;
    } else {
      status = 'FATALLY_FAILED';
      reason = text;
    }
  }
  await tx.query(
    `UPDATE baton_step_attempts SET status = $2, reason = $3, edges = CASE WHEN $4::boolean THEN edges END, updated_at = now() WHERE id = $1`,
    [ref.attemptPk, status, reason, status !== 'FATALLY_FAILED'],
  );
  await writeStepTimeline(tx, [{ attemptPk: ref.attemptPk, from: to, to: status, message: text }]);
  await stepHooksNoting(tx, outbox, ctx.stepHooks, { ...ref, status, params, outputs: status === 'FATALLY_FAILED' ? {} : outputs });
}
