import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import { Queue } from '../queue/queue.js';
import { Worker } from '../queue/worker.js';
import { advanceInstance } from './advance.js';
import { JOB_ADVANCE, JOB_DISPATCH, JOB_STEP, VersionCache, advanceJob, dispatchJob, stepJob, type EngineContext, type InstanceCompletionHook, type StepCompletionHook, type StepGate } from './context.js';
import { getFromForeach, getFromSubworkflow } from './child-params.js';
import { dispatchWorkflow } from './dispatch.js';
import { DRY_RUN_SEL_TIMEOUT_MS, dryRunParams } from './dry-run.js';
import type { DefinitionIssue } from '../definition/issues.js';
import type { WorkflowRequest } from '../definition/model.js';
import { restartInstance, type RestartResult } from './restart.js';
import { getRollup, type Rollup } from './rollup.js';
import { onIterationEnded, runLoopJob } from './foreach.js';
import { JOB_LOOP, setLoopLimits } from './loop-helpers.js';
import { withInlineWorkflows } from './inline-definitions.js';
import type { ExpressionPort, SelExtension } from './expressions.js';
import { listIterations, type IterationPage, type IterationQuery } from './iterations-read.js';
import { getRun, getStepAttempt, listInstances, type InstancePage, type RunDetails, type StepAttemptDetails } from './read-api.js';
import { selEvaluator, selExpressionPort, type SelEvaluate } from './sel-port.js';
import { SelWorkerPool } from '../sel-pool/pool.js';
import { runStepJob as runStep } from './step-job.js';
import { startWorkflow, type StartWorkflowRequest, type StartWorkflowResult } from './start.js';
import { JOB_DISPATCH_MANY, runDispatchMany, startWorkflowsInTx, type StartInTxOptions } from './start-batch.js';
import { RuntimeRegistry, noOpRuntime, sleepRuntime, type LogStream, type StepRuntime, type StepTypeCatalog } from './step-runtime.js';
import { getStepLog, type StepLogRead } from './step-logs-read.js';
import { INSTANCE_TERMINAL, type InstanceStatus } from './status.js';
import { killInstance, stopInstance } from './stop.js';
import { JOB_WORKFLOW_TIMEOUT, dropWorkflowTimeout, runWorkflowTimeoutJob } from './workflow-timeout.js';
import { deleteBreakpoints, listBreakpoints, setBreakpoint, type Breakpoint, type BreakpointScope } from './breakpoints.js';
import { DEFAULT_STEP_LOG_LIMITS, type StepLogLimits } from './step-logs.js';
import { applyStepAction, type StepAction, type StepActionResult } from './step-actions.js';
import { DEFAULT_PLATFORM_RETRY, endingOnError, type PlatformRetry } from './terminal.js';
import type { EngineOptions } from './engine-options.js';

export type { EngineOptions } from './engine-options.js';

/**
 * The durable workflow runtime. The database is the source of truth; this object holds only
 * caches and the abort handles of attempts running here, so any number of processes can run it
 * on one database and any of them can be killed at any moment.
 *
 * Work flows through three queue job kinds, each written in the transaction of the state change
 * that needs it: `engine.dispatch` (per workflow: run strategy), `engine.advance` (per instance:
 * create/permit/finish steps) and `engine.step` (per attempt: gates, params, runtime, result).
 */
export class Engine {
  readonly queue: Queue;
  readonly events = new EventEmitter();
  private readonly ctx: EngineContext;
  private readonly worker: Worker;
  private readonly runtimes = new RuntimeRegistry();
  private readonly extensions = new Map<string, SelExtension>();
  /** Where SEL programs that may run long are evaluated, off the event loop. */
  readonly selPool: SelWorkerPool;
  /**
   * Evaluates a SEL program outside params (trigger conditions, signal outputs) the way the engine
   * evaluates params: inline when cheap, else in the worker pool, under the wall-clock limit.
   */
  readonly evaluateSel: SelEvaluate;

  constructor(private readonly opts: EngineOptions) {
    const retry: PlatformRetry = { ...DEFAULT_PLATFORM_RETRY, ...opts.platformRetry };
    this.queue = new Queue(opts.db, { maxBackoffSeconds: retry.maxBackoffSeconds });
    this.selPool = new SelWorkerPool({ workers: opts.selWorkers, queueLimit: opts.selQueueLimit });
    this.evaluateSel = selEvaluator({ pool: this.selPool, timeoutMs: opts.selTimeoutMs });
    this.runtimes.register('NoOp', noOpRuntime);
    this.runtimes.register('Sleep', sleepRuntime);
    this.ctx = {
      db: opts.db,
      queue: this.queue,
      sel: opts.expressions ?? selExpressionPort(() => this.extensions.keys(), { pool: this.selPool, timeoutMs: opts.selTimeoutMs }),
      versions: new VersionCache(withInlineWorkflows(opts.definitions)),
      runtimes: this.runtimes,
      gates: new Map(),
      stepHooks: [],
      instanceHooks: [],
      extensions: this.extensions,
      timeScale: opts.timeScale ?? 1,
      paramValidators: opts.paramValidators ?? 'enforce',
      events: this.events,
      running: new Map(),
      stepLogs: stepLogLimits(opts.stepLogs),
      onLogError: (err) => opts.onError?.(err, { kind: 'step.logs', payload: {} }),
    };
    const ctx = this.ctx;
    const report = (err: unknown, job: { kind: string; payload: Record<string, unknown> }): void => opts.onError?.(err, job);
    this.extensions.set('getFromForeach', getFromForeach);
    this.extensions.set('getFromSubworkflow', getFromSubworkflow);
    setLoopLimits(ctx, { foreachIterations: opts.foreachIterationLimit, whileIterations: opts.whileIterationLimit, subworkflowDepth: opts.subworkflowDepthLimit });
    ctx.instanceHooks.push({ name: 'loop iteration ended', hook: onIterationEnded, trusted: true });
    ctx.instanceHooks.push({ name: 'workflow timeout', hook: (tx, _outbox, e) => dropWorkflowTimeout(ctx, tx, e), trusted: true });
    this.worker = new Worker(this.queue, {
      workerId: opts.workerId ?? `engine-${randomUUID()}`,
      concurrency: opts.concurrency ?? 32,
      leaseMs: opts.leaseMs ?? 30_000,
      pollMs: opts.pollMs ?? 1_000,
      onError: (job, err) => opts.onError?.(err, job),
      handlers: {
        [JOB_DISPATCH]: (job) => dispatchWorkflow(ctx, String(job.payload.workflowId), { onlyIfQueued: job.payload.ended === true }),
        [JOB_ADVANCE]: endingOnError(ctx, retry, 'instance', 'advancing the instance', (job) => advanceInstance(ctx, Number(job.payload.instancePk)), report),
        [JOB_STEP]: endingOnError(ctx, retry, 'attempt', 'the step job', (job, jc) => runStep(ctx, Number(job.payload.attemptPk), jc.signal), report),
        [JOB_LOOP]: endingOnError(ctx, retry, 'attempt', 'the loop job', (job) => runLoopJob(ctx, Number(job.payload.attemptPk)), report),
        [JOB_WORKFLOW_TIMEOUT]: (job, jc) => runWorkflowTimeoutJob(ctx, Number(job.payload.instancePk), jc.signal),
        [JOB_DISPATCH_MANY]: (job) => runDispatchMany(ctx, job.payload),
      },
    });
  }

  get workerId(): string {
    return this.worker.workerId;
  }

  /** Registers (or replaces) the runtime for a step type; NoOp and Sleep are built in. */
  registerRuntime(type: string, runtime: StepRuntime): void {
    this.runtimes.register(type, runtime);
  }

  /** The step types this engine has a runtime for (case-insensitive), for checking definitions at push. */
  /**
   * Maestro's push-time dry run: the params of `request` that cannot evaluate (workflow params,
   * then each top-level step's), with sample values for what only a run has. Empty when all do.
   */
  dryRun(request: WorkflowRequest): Promise<DefinitionIssue[]> {
    // A push waits at most DRY_RUN_SEL_TIMEOUT_MS per program; one that needs longer is left to the run.
    this.dryRunSel ??= this.opts.expressions ?? selExpressionPort(() => this.extensions.keys(), { pool: this.selPool, timeoutMs: Math.min(this.opts.selTimeoutMs || DRY_RUN_SEL_TIMEOUT_MS, DRY_RUN_SEL_TIMEOUT_MS) });
    return dryRunParams(request, { sel: this.dryRunSel });
  }
  private dryRunSel: ExpressionPort | undefined;

  get stepTypes(): StepTypeCatalog {
    return this.runtimes;
  }

  /** Adds a gate every step passes before evaluating params (signal dependencies are one). */
  registerGate(name: string, gate: StepGate): void {
    this.ctx.gates.set(name, gate);
  }

  /** Adds `params.<name>(...)` to SEL programs the engine evaluates. */
  registerSelExtension(name: string, extension: SelExtension): void {
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`not a valid SEL method name: ${name}`);
    this.extensions.set(name, extension);
  }

  /**
   * Runs `hook` in the transaction that ends a step. A hook that throws (other than a passing
   * database problem) fails the step with a reason naming it (`name`) and the error: see hooks.ts.
   */
  onStepCompleted(hook: StepCompletionHook, name = `step completion hook ${this.ctx.stepHooks.length + 1}`): void {
    this.ctx.stepHooks.push({ name, hook });
  }

  /** Runs `hook` in the transaction that ends an instance; a failure is noted on the instance. */
  onInstanceCompleted(hook: InstanceCompletionHook, name = `instance completion hook ${this.ctx.instanceHooks.length + 1}`): void {
    this.ctx.instanceHooks.push({ name, hook });
  }

  /**
   * Starts the workers and resumes every open instance: re-dispatches workflows with queued
   * instances, re-advances running ones, and re-checks attempts waiting at a gate. Jobs of a
   * crashed process are re-delivered by the queue once their leases expire.
   */
  async start(): Promise<void> {
    await this.queue.tx(async (tx, outbox) => {
      const open = await tx.query<{ id: number; workflow_id: string; status: string }>(
        `SELECT id, workflow_id, status FROM baton_workflow_instances WHERE status IN ('CREATED', 'IN_PROGRESS', 'PAUSED')`,
      );
      const workflows = new Set<string>();
      for (const r of open.rows) {
        if (r.status === 'CREATED') workflows.add(r.workflow_id);
        else await outbox.add(advanceJob(r.id));
      }
      for (const w of workflows) await outbox.add(dispatchJob(w));
      const waiting = await tx.query<{ id: number }>(`SELECT id FROM baton_step_attempts WHERE status = 'WAITING_FOR_SIGNALS'`);
      for (const r of waiting.rows) await outbox.add(stepJob(r.id));
    });
    await this.worker.start();
  }

  /** Stops this process's workers; running attempts are aborted and resume elsewhere or on restart. */
  async stop(): Promise<void> {
    await this.worker.stop();
    await this.selPool.close();
  }

  /** Resolves when this process has nothing running and nothing claimable right now. */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  startWorkflow(req: StartWorkflowRequest): Promise<StartWorkflowResult> {
    return startWorkflow(this.ctx, req);
  }

  /**
   * Starts runs inside the caller's transaction `tx` (results in request order): they commit or
   * roll back with it. Idempotent per request id like `startWorkflow` (a duplicate, also within
   * the batch, returns the first instance with `duplicate: true` and uses no instance id). Pass
   * `{ outbox }` when `tx` comes from `engine.queue.tx` so this process's workers wake at commit.
   */
  startWorkflowsInTx(tx: Queryable, reqs: readonly StartWorkflowRequest[], opts?: StartInTxOptions): Promise<StartWorkflowResult[]> {
    return startWorkflowsInTx(this.ctx, tx, reqs, opts, this.opts.definitions);
  }

  /** One start inside the caller's transaction (see `startWorkflowsInTx`). */
  async startWorkflowInTx(tx: Queryable, req: StartWorkflowRequest, opts?: StartInTxOptions): Promise<StartWorkflowResult> {
    const [res] = await startWorkflowsInTx(this.ctx, tx, [req], opts, this.opts.definitions);
    return res!;
  }

  stopInstance(workflowId: string, instanceId: number, reason?: string): Promise<boolean> {
    return stopInstance(this.ctx, workflowId, instanceId, reason);
  }

  /**
   * Kills an instance (its latest run): it ends FAILED, so the run strategy takes it as a failure
   * (STRICT_SEQUENTIAL blocks), its open steps end FATALLY_FAILED and what they run below is
   * killed too. False when it does not exist or already ended.
   */
  killInstance(workflowId: string, instanceId: number, reason?: string): Promise<boolean> {
    return killInstance(this.ctx, workflowId, instanceId, reason);
  }

  /** A new run of a failed, stopped or timed-out instance that runs only what did not end well. */
  restartInstance(workflowId: string, instanceId: number, reason?: string): Promise<RestartResult> {
    return restartInstance(this.ctx, workflowId, instanceId, reason);
  }

  /**
   * resume / skip / stop / kill one step of a running instance (see step-actions.ts); a step in a
   * loop is addressed as workflow `wf#loop` and its iteration's instance id. Throws StepActionError.
   */
  stepAction(workflowId: string, instanceId: number, stepId: string, action: StepAction, reason?: string): Promise<StepActionResult> {
    return applyStepAction(this.ctx, workflowId, instanceId, stepId, action, reason);
  }

  /** Pauses matching step attempts before they run until resumed (see breakpoints.ts). */
  setBreakpoint(workflowId: string, stepId: string, scope?: BreakpointScope, createdBy?: unknown): Promise<{ breakpoint: Breakpoint; created: boolean }> {
    return setBreakpoint(this.ctx, workflowId, stepId, scope, createdBy);
  }

  /** Deletes a step's breakpoints (or the one with exactly `scope`) and resumes what they paused. */
  deleteBreakpoints(workflowId: string, stepId: string, scope?: BreakpointScope): Promise<{ deleted: number; resumed: number }> {
    return deleteBreakpoints(this.ctx, workflowId, stepId, scope);
  }

  listBreakpoints(workflowId: string, stepId?: string): Promise<Breakpoint[]> {
    return listBreakpoints(this.opts.db, workflowId, stepId);
  }

  /** STRICT_SEQUENTIAL: lets queued runs start again after a failed run blocked them. */
  async unblock(workflowId: string): Promise<boolean> {
    return this.queue.tx(async (tx, outbox) => {
      const res = await tx.query('UPDATE baton_workflow_state SET blocked_by_instance = NULL WHERE workflow_id = $1 AND blocked_by_instance IS NOT NULL', [workflowId]);
      if (res.rowCount > 0) await outbox.add(dispatchJob(workflowId));
      return res.rowCount > 0;
    });
  }

  /**
   * Asks the engine to look at an attempt again (a gate it waits on may have opened). Call it in
   * the transaction that opened the gate; the queue's NOTIFY and poll deliver the wake-up.
   */
  async recheckStep(q: Queryable, attemptPk: number): Promise<void> {
    await this.queue.add(q, stepJob(attemptPk));
  }

  listInstances(workflowId: string, opts?: { limit?: number; before?: number; status?: InstanceStatus }): Promise<InstancePage> {
    return listInstances(this.opts.db, workflowId, opts);
  }

  getRun(workflowId: string, instanceId: number, runId?: number): Promise<RunDetails | undefined> {
    return getRun(this.opts.db, this.ctx.versions, workflowId, instanceId, runId);
  }

  /** A page of a foreach or while step's iterations (throws IterationReadError when there is no such loop). */
  listIterations(workflowId: string, instanceId: number, stepId: string, q?: IterationQuery): Promise<IterationPage> {
    return listIterations(this.opts.db, workflowId, instanceId, stepId, q);
  }

  /** Counts by status across the run and every loop iteration and subworkflow run below it. */
  getRollup(workflowId: string, instanceId: number, runId?: number): Promise<Rollup | undefined> {
    return getRollup(this.opts.db, workflowId, instanceId, runId);
  }

  getStepAttempt(workflowId: string, instanceId: number, stepId: string, opts?: { runId?: number; attemptId?: number }): Promise<StepAttemptDetails | undefined> {
    return getStepAttempt(this.opts.db, workflowId, instanceId, stepId, opts);
  }

  /** Up to `limit` bytes of a step attempt's stdout or stderr from `offset`; throws StepLogOffsetError past the end. */
  getStepLog(
    workflowId: string,
    instanceId: number,
    stepId: string,
    opts: { runId?: number; attemptId?: number; stream: LogStream; offset: number; limit: number },
  ): Promise<StepLogRead | undefined> {
    return getStepLog(this.opts.db, workflowId, instanceId, stepId, opts);
  }

  /**
   * Resolves with the terminal status once the instance ended: woken by this process's completion
   * events, and polling the database for instances other processes finish.
   */
  async waitForInstance(workflowId: string, instanceId: number, timeoutMs = 60_000): Promise<InstanceStatus> {
    const deadline = Date.now() + timeoutMs;
    let wake: (() => void) | undefined;
    let fired = false;
    const onDone = (e: { workflowId: string; instanceId: number }): void => {
      if (e.workflowId !== workflowId || e.instanceId !== instanceId) return;
      fired = true;
      wake?.();
    };
    this.events.on('instance.completed', onDone);
    try {
      for (;;) {
        const res = await this.opts.db.query<{ status: InstanceStatus }>(
          `SELECT status FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 ORDER BY run_id DESC LIMIT 1`,
          [workflowId, instanceId],
        );
        const st = res.rows[0]?.status;
        if (st && INSTANCE_TERMINAL.has(st)) return st;
        if (Date.now() > deadline) throw new Error(`instance ${workflowId}/${instanceId} still ${st ?? 'missing'} after ${timeoutMs} ms`);
        if (fired) continue;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    } finally {
      this.events.off('instance.completed', onDone);
    }
  }
}

function stepLogLimits(given: Partial<StepLogLimits> = {}): StepLogLimits {
  const limits = { ...DEFAULT_STEP_LOG_LIMITS, ...given };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`stepLogs.${k} must be a positive whole number, got ${v}`);
  }
  return limits;
}
