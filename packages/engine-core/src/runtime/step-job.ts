import { createHash } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import { defaultStepParams } from '../params/defaults.js';
import type { ParamValue, Step } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, writeStepTimeline, type CachedVersion, type EngineContext, type StepRef, type StepTimelineEntry } from './context.js';
import type { ParamsHost, SelExtensionContext } from './expressions.js';
import { decodeParams, encodeParams, evaluateParams, plainValues, toTypedValue, type EvaluatedParams } from './params.js';
import type { StepResult, StepRuntime } from './step-runtime.js';
import { STEP_FAILED, type StepStatus } from './status.js';
import { beginComposite } from './composite.js';
import { holdAtBreakpoint } from './breakpoints.js';
import { planRetry, scheduleRetry } from './retry.js';
import { StepTimeoutError, timeoutSeconds } from './timeouts.js';
import { AttemptLogWriter } from './step-logs.js';
import { hookFailureText, runStepHooks, stepHooksNoting, type HookFailure } from './hooks.js';
import { errorText, isTransientError } from './transient.js';
import { extensionHost, paramTexts, signalReference } from './extension-host.js';

/** A step attempt row with its instance's, as the step job reads it (loops add their counters). */
export interface OwnedRow {
  id: number;
  step_id: string;
  attempt_id: number;
  status: StepStatus;
  generation: number;
  params: unknown;
  started_at: Date | string | null;
  instance_pk: number;
  workflow_id: string;
  version: number;
  instance_id: number;
  run_id: number;
  instance_status: string;
  instance_params: unknown;
}

/** The attempt an ending is recorded for: enough to fence the write and evaluate the edges. */
export interface AttemptTarget {
  ref: StepRef;
  def: CachedVersion;
  step: Step;
  stepType: string;
  generation: number;
  merged: EvaluatedParams;
  own: EvaluatedParams;
}

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
    await db.query<OwnedRow>(
      `UPDATE baton_step_attempts a SET generation = a.generation + 1, updated_at = now()
       FROM baton_workflow_instances i
       WHERE a.id = $1 AND i.id = a.instance_pk AND a.status IN ('INITIALIZED', 'PAUSED', 'WAITING_FOR_SIGNALS', 'RUNNING')
         AND i.status = 'IN_PROGRESS'
       RETURNING a.id, a.step_id, a.attempt_id, a.status, a.generation, a.params, a.started_at, a.instance_pk,
         i.workflow_id, i.version, i.instance_id, i.run_id, i.status AS instance_status, i.params AS instance_params`,
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

  if (await holdAtBreakpoint(ctx, ref, generation, row.status)) return undefined;

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
 * Records a terminal status (fenced), runs the completion hooks and asks for an advance. Once that
 * commits, emits 'step.ended' (step type, status, seconds since the attempt started) for an
 * attempt that had started.
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
  await outbox.add(advanceJob(ref.instancePk));
  return true;
}

/**
 * A completion hook failed on an ending just recorded (its writes were undone): a step that ended
 * well fails FATALLY_FAILED — or, with failure mode IGNORE_FAILURE, COMPLETED_WITH_ERROR — with a
 * reason naming the hook and its error; a step that already failed keeps its status and gets the
 * hook's error added to its reason. The hooks then see the new ending; failing again only adds
 * to the reason, so the ending always commits.
 */
async function endAfterHookFailure(
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

/** Stable per step instance (run + step), so a resumed or re-evaluated attempt sees the same id. */
function stepInstanceUuid(ref: StepRef): string {
  const h = createHash('sha1').update(`${ref.instancePk}:${ref.stepId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function needsOtherSteps(text: string): boolean {
  return text.includes('__') || text.includes('getFromStep');
}

/** Latest params (overlaid by outputs) of every step of the instance, for cross-step references. */
async function loadStepParams(tx: Queryable, instancePk: number): Promise<Map<string, EvaluatedParams>> {
  const res = await tx.query<{ step_id: string; params: unknown; outputs: unknown }>(
    `SELECT DISTINCT ON (step_id) step_id, params, outputs FROM baton_step_attempts
     WHERE instance_pk = $1 AND params IS NOT NULL ORDER BY step_id, attempt_id DESC`,
    [instancePk],
  );
  return new Map(res.rows.map((r) => [r.step_id, { ...decodeParams(r.params), ...decodeParams(r.outputs) }]));
}

async function hostFor(
  ctx: EngineContext,
  tx: Queryable,
  ref: StepRef,
  def: CachedVersion,
  texts: readonly string[],
  workflowParams: EvaluatedParams,
  self?: EvaluatedParams,
): Promise<{ host: Omit<ParamsHost, 'get' | 'containsKey'>; crossStep: (name: string) => ParamValue | undefined; signalRef: (name: string) => ParamValue | undefined }> {
  const all = texts.join('\n');
  const others = needsOtherSteps(all) ? await loadStepParams(tx, ref.instancePk) : new Map<string, EvaluatedParams>();
  if (self) others.set(ref.stepId, self);
  const extCtx: SelExtensionContext = { workflowId: ref.workflowId, instanceId: ref.instanceId, runId: ref.runId, stepId: ref.stepId };
  const extension = await extensionHost(ctx, tx, extCtx, all);
  const getFromStep = (stepId: string, name: string): ParamValue | undefined => others.get(stepId)?.[name]?.value;
  return {
    host: {
      getFromStep,
      getFromInstance: (name) => workflowParams[name]?.value,
      extension,
    },
    crossStep: (name) => {
      // `job1__sleep_seconds` (Maestro) — step ids may contain '_' too, so try each split point.
      for (let i = name.indexOf('__'); i > 0; i = name.indexOf('__', i + 1)) {
        const stepId = name.slice(0, i);
        if (def.dag.steps.has(stepId)) return getFromStep(stepId, name.slice(i + 2));
      }
      return undefined;
    },
    // As Maestro: a `__` reference to no step of the workflow reads a signal that triggered the run.
    signalRef: (name) => signalReference(extension, name),
  };
}

export async function evaluateStepParams(
  ctx: EngineContext,
  tx: Queryable,
  def: CachedVersion,
  ref: StepRef,
  step: Step,
  workflowParams: EvaluatedParams,
): Promise<EvaluatedParams> {
  const reserved: EvaluatedParams = { workflow_run_id: { type: 'LONG', value: BigInt(ref.runId) } };
  const defaults = defaultStepParams({
    workflowId: ref.workflowId,
    workflowInstanceId: ref.instanceId,
    stepId: ref.stepId,
    stepInstanceUuid: stepInstanceUuid(ref),
    stepAttemptId: ref.attemptId,
    kind: step.kind,
  });
  for (const [k, p] of Object.entries(defaults)) reserved[k] = { type: p.type, value: p.value };
  const texts = [paramTexts(step.params)];
  const { host, crossStep, signalRef } = await hostFor(ctx, tx, ref, def, texts, workflowParams);
  const own = await evaluateParams(ctx.sel, {
    defs: step.params,
    base: { ...workflowParams, ...reserved },
    host,
    crossStep,
    signalRef,
    selfId: ref.stepId,
    validate: ctx.paramValidators === 'enforce',
  });
  return { ...reserved, ...own };
}

export async function evaluateEdges(ctx: EngineContext, tx: Queryable, launch: AttemptTarget, scope: EvaluatedParams): Promise<Record<string, boolean>> {
  const edges: Record<string, boolean> = {};
  const successors = Object.entries(launch.step.transition.successors);
  const complex = successors.filter(([, cond]) => cond.trim() !== 'true' && cond.trim() !== 'false');
  const env = complex.length > 0
    ? await hostFor(ctx, tx, launch.ref, launch.def, complex.map(([, c]) => c), scope, scope)
    : undefined;
  for (const [succ, cond] of successors) {
    const text = cond.trim();
    if (text === 'true' || text === 'false') {
      edges[succ] = text === 'true';
      continue;
    }
    const vars = plainValues(scope);
    let value: unknown;
    try {
      const compiled = ctx.sel.compile(text);
      const visible: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
      for (const n of compiled.names) {
        const v = n in vars ? vars[n] : (env!.crossStep(n) ?? env!.signalRef(n));
        if (v !== undefined) visible[n] = v;
      }
      const host: ParamsHost = { ...env!.host, get: (n) => vars[n], containsKey: (n) => n in vars };
      value = await compiled.evaluate(visible, host);
    } catch (e) {
      throw new Error(`condition for successor ${succ} (${text}): ${(e as Error).message}`, { cause: e });
    }
    if (typeof value !== 'boolean') throw new Error(`condition for successor ${succ} (${text}) must be true or false, got ${String(value)}`);
    edges[succ] = value;
  }
  return edges;
}
