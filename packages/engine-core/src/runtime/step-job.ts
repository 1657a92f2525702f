import type { Step } from '../definition/model.js';
import { writeStepTimeline, type CachedVersion, type EngineContext, type StepRef, type StepTimelineEntry } from './context.js';
import { decodeParams, encodeParams, plainValues, type EvaluatedParams } from './params.js';
import type { StepResult, StepRuntime } from './step-runtime.js';
import { STEP_FAILED, type StepStatus } from './status.js';
import { beginComposite } from './composite.js';
import { holdAtBreakpoint } from './breakpoints.js';
import { StepTimeoutError, timeoutSeconds } from './timeouts.js';
import { AttemptLogWriter } from './step-logs.js';
import { errorText, isTransientError } from './transient.js';
import type { OwnedRow } from './attempt-target.js';
import { endAttempt, finish, guardedTransition } from './step-ending.js';
import { evaluateEdges, evaluateStepParams } from './step-evaluation.js';

interface Launch {
  ref: StepRef;
  def: CachedVersion;
  step: Step;
  runtime: StepRuntime;
  stepType: string;
  generation: number;
  /** What the runtime sees: workflow params, reserved step info and the step's own params. */
  merged: EvaluatedParams;
  own: EvaluatedParams;
  startedAt: Date;
  resumed: boolean;
}

/**
 * Runs one attempt: takes ownership (a new generation), asks the gates, evaluates params, records
 * RUNNING, calls the runtime outside any transaction, then records the result and the evaluated
 * outgoing conditions — fenced by the generation, so only the current owner's result counts.
 * A job re-delivered after its owner was lost finds the attempt RUNNING and resumes it.
 */
export async function runStepJob(ctx: EngineContext, attemptPk: number, jobSignal: AbortSignal): Promise<void> {
  const launch = await prepare(ctx, attemptPk);
  if (!launch) return;

  const ctrl = new AbortController();
  const onJobAbort = (): void => ctrl.abort(jobSignal.reason);
  jobSignal.addEventListener('abort', onJobAbort, { once: true });
  ctx.running.set(attemptPk, ctrl);
  const logs = new AttemptLogWriter(ctx.db, attemptPk, ctx.stepLogs, ctx.onLogError);
  let result: StepResult;
  let timer: NodeJS.Timeout | undefined;
  let timedOut: StepTimeoutError | undefined;
  try {
    // The step timeout counts from the attempt's first start (it survives a resume), scaled.
    const limit = timeoutSeconds(launch.step.timeout, launch.merged);
    if (limit !== undefined) {
      const left = limit * 1000 * ctx.timeScale - (Date.now() - launch.startedAt.getTime());
      timer = setTimeout(() => ctrl.abort((timedOut = new StepTimeoutError(limit))), Math.max(0, left));
    }
    ctx.events.emit('step.launch', attemptPk, performance.now());
    result = await launch.runtime.run(plainValues(launch.merged), {
      signal: ctrl.signal,
      workflowId: launch.ref.workflowId,
      instanceId: launch.ref.instanceId,
      runId: launch.ref.runId,
      stepId: launch.ref.stepId,
      attemptId: launch.ref.attemptId,
      attemptPk,
      stepType: launch.stepType,
      resumed: launch.resumed,
      startedAt: launch.startedAt,
      timeScale: ctx.timeScale,
      timeline: async (message) => {
        await writeStepTimeline(ctx.db, [{ attemptPk, from: null, to: null, message }]);
      },
      logs,
    });
  } catch (e) {
    result = { status: 'PLATFORM_FAILED', message: `step runtime ${launch.stepType} failed: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
    jobSignal.removeEventListener('abort', onJobAbort);
    // Stored before the ending is, so a reader that sees the attempt ended sees all its output.
    await logs.close(launch.resumed);
    ctx.running.delete(attemptPk);
  }
  if (timedOut && ctrl.signal.reason === timedOut) result = { status: 'TIMED_OUT', message: timedOut.message };
  // Stopped, or ownership lost: whoever aborted us owns the outcome now.
  else if (ctrl.signal.aborted) return;
  await ctx.queue.tx((tx, outbox) => finish(ctx, tx, outbox, launch, result));
}

/**
 * Takes ownership and gets the attempt to RUNNING. Runs without a surrounding transaction: each
 * statement is atomic and fenced by the generation, and a crash between them leaves an attempt
 * that the re-delivered job simply prepares again. Only endings (which add queue jobs) use one.
 */
async function prepare(ctx: EngineContext, attemptPk: number): Promise<Launch | undefined> {
  const db = ctx.db;
  const row = (
    await db.query<OwnedRow & { breakpoint: boolean }>(
      `UPDATE baton_step_attempts a SET generation = a.generation + 1, updated_at = now()
       FROM baton_workflow_instances i
       WHERE a.id = $1 AND i.id = a.instance_pk AND a.status IN ('INITIALIZED', 'PAUSED', 'WAITING_FOR_SIGNALS', 'RUNNING')
         AND i.status = 'IN_PROGRESS'
       RETURNING a.id, a.step_id, a.attempt_id, a.status, a.generation, a.params, a.started_at, a.instance_pk,
         i.workflow_id, i.version, i.instance_id, i.run_id, i.status AS instance_status, i.params AS instance_params,
         -- Whether a breakpoint names this step (of the top-level workflow, for a loop iteration):
         -- read here so an attempt with none (almost all) costs no separate look-up.
         EXISTS (SELECT 1 FROM baton_breakpoints b WHERE b.workflow_id = split_part(i.workflow_id, '#', 1) AND b.step_id = a.step_id) AS breakpoint`,
      [attemptPk],
    )
  ).rows[0];
  if (!row) return undefined;
  const def = await ctx.versions.require(row.workflow_id, row.version);
  const step = def.dag.steps.get(row.step_id);
  const ref: StepRef = {
    workflowId: row.workflow_id,
    version: row.version,
    instanceId: Number(row.instance_id),
    runId: row.run_id,
    instancePk: row.instance_pk,
    stepId: row.step_id,
    attemptId: row.attempt_id,
    attemptPk,
  };
  const generation = Number(row.generation);
  const workflowParams = decodeParams(row.instance_params);
  const stepType = !step ? 'unknown' : step.kind === 'step' ? step.type : step.kind;
  const end = async (from: StepStatus, to: StepStatus, message: string, own: EvaluatedParams = {}, via: StepTimelineEntry[] = []): Promise<undefined> => {
    await ctx.queue.tx(async (tx, outbox) => {
      await writeStepTimeline(tx, via);
      let edges: Record<string, boolean> | null = null;
      // IGNORE_FAILURE: the step completes with an error and its successors' conditions decide.
      if (step && STEP_FAILED.has(to) && step.failureMode === 'IGNORE_FAILURE') {
        const merged = { ...workflowParams, ...own };
        try {
          edges = await evaluateEdges(ctx, tx, { ref, def, step, stepType, generation, merged, own }, merged);
          message = `${to} ignored (failure mode IGNORE_FAILURE): ${message}`;
          to = 'COMPLETED_WITH_ERROR';
        } catch (e) {
          message = `${message}; ${errorText(e)}`;
          to = 'FATALLY_FAILED';
        }
      }
      await endAttempt(ctx, tx, outbox, ref, generation, from, to, message, own, edges, {});
    });
    return undefined;
  };
  if (!step) return end(row.status, 'INTERNALLY_FAILED', `step ${row.step_id} is not in version ${def.version} of the workflow`);

  // Loops and subworkflows run as child instances, driven by their own queue jobs.
  const composite = step.kind !== 'step' ? step : undefined;
  const beginLoop = async (): Promise<undefined> => {
    await beginComposite(ctx, { ref, def, step: composite!, generation, from: row.status, workflowParams, stored: row.params });
    return undefined;
  };
  if (composite && row.status === 'RUNNING') return beginLoop();

  if (row.status === 'RUNNING') {
    const own = decodeParams(row.params);
    const runtime = step.kind === 'step' ? ctx.runtimes.get(step.type) : undefined;
    if (!runtime) return end('RUNNING', 'FATALLY_FAILED', `no runtime registered for step type ${stepType}`);
    await writeStepTimeline(db, [{ attemptPk, from: 'RUNNING', to: 'RUNNING', message: 'resumed: the previous owner was lost' }]);
    return {
      ref, def, step, runtime, stepType, generation, own,
      merged: { ...workflowParams, ...own },
      startedAt: row.started_at ? new Date(row.started_at) : new Date(),
      resumed: true,
    };
  }

  if ((row.breakpoint || row.status === 'PAUSED') && (await holdAtBreakpoint(ctx, ref, generation, row.status))) return undefined;

  for (const [name, gate] of ctx.gates) {
    let verdict: { open: boolean; reason?: string };
    try {
      verdict = await gate.check(db, ref, def);
    } catch (e) {
      if (isTransientError(e)) throw e;
      return end(row.status, 'USER_FAILED', `step gate "${name}" failed: ${errorText(e)}`);
    }
    if (!verdict.open) {
      if (row.status === 'INITIALIZED' || row.status === 'PAUSED') {
        await guardedTransition(db, attemptPk, generation, row.status, 'WAITING_FOR_SIGNALS', {}, [
          { from: row.status, to: 'WAITING_FOR_SIGNALS', message: `waiting for gate ${name}${verdict.reason ? `: ${verdict.reason}` : ''}` },
        ]);
      }
      return undefined;
    }
  }

  const via: StepTimelineEntry[] = [{ attemptPk, from: row.status, to: 'EVALUATING_PARAMS', message: 'gates open' }];
  if (step.kind !== 'step') return beginLoop();
  let own: EvaluatedParams;
  try {
    own = await evaluateStepParams(ctx, db, def, ref, step, workflowParams);
  } catch (e) {
    return end('EVALUATING_PARAMS', 'USER_FAILED', (e as Error).message, {}, via);
  }
  const runtime = ctx.runtimes.get(step.type);
  if (!runtime) return end('EVALUATING_PARAMS', 'FATALLY_FAILED', `no runtime registered for step type ${step.type}`, own, via);
  const started = await guardedTransition(db, attemptPk, generation, row.status, 'RUNNING', { params: encodeParams(own), started: true }, [
    { from: row.status, to: 'EVALUATING_PARAMS', message: 'gates open' },
    { from: 'EVALUATING_PARAMS', to: 'RUNNING', message: `params evaluated; ${step.type} runtime called` },
  ]);
  if (!started) return undefined;
  return {
    ref, def, step, runtime, stepType, generation, own,
    merged: { ...workflowParams, ...own },
    startedAt: started,
    resumed: false,
  };
}
