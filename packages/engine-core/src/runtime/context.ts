import { EventEmitter } from 'node:events';
import type { Db, Queryable } from '../db/db.js';
import type { Outbox, Queue } from '../queue/queue.js';
import { buildDag, type Dag, type DefinitionSource, type VersionSelector, type WorkflowVersion } from './definitions.js';
import type { ExpressionPort, SelExtension } from './expressions.js';
import type { EvaluatedParams } from './params.js';
import type { StepLogLimits } from './step-logs.js';
import type { RuntimeRegistry } from './step-runtime.js';
import type { InstanceStatus, StepStatus } from './status.js';

export const JOB_DISPATCH = 'engine.dispatch';
export const JOB_ADVANCE = 'engine.advance';
export const JOB_STEP = 'engine.step';

/** Which step an event, a gate or a hook is about. */
export interface StepRef {
  workflowId: string;
  version: number;
  instanceId: number;
  runId: number;
  /** Database id of the instance run. */
  instancePk: number;
  stepId: string;
  attemptId: number;
  attemptPk: number;
}

/**
 * A step gate: before a step evaluates its params it asks every gate; while one is closed the
 * step waits in WAITING_FOR_SIGNALS. Whoever opens the gate later calls `Engine.recheckStep`.
 */
export interface StepGate {
  check(q: Queryable, step: StepRef, definition: WorkflowVersion): Promise<{ open: boolean; reason?: string }>;
  /**
   * False when the gate is always open for this step of this version, whatever the run (e.g. no
   * signal dependencies): the engine may then run a step whose runtime finishes at once (NoOp)
   * inside the transaction that starts it, without asking the gate. Without it, the gate is
   * asked for every step.
   */
  mayClose?(definition: WorkflowVersion, stepId: string): boolean;
}

export interface StepCompletedEvent extends StepRef {
  status: StepStatus;
  params: EvaluatedParams;
  outputs: EvaluatedParams;
}

export interface InstanceCompletedEvent {
  workflowId: string;
  version: number;
  instanceId: number;
  runId: number;
  instancePk: number;
  status: InstanceStatus;
  reason: string | null;
  /**
   * The step attempt that started this instance (loop iteration, subworkflow run): null for a
   * top-level run, undefined when the path that ended it did not read it.
   */
  parentAttemptPk?: number | null;
}

/**
 * Hooks run inside the transaction that records the state change, with its outbox, so what they
 * write (output signals, follow-up jobs) commits exactly when the change does.
 */
export type StepCompletionHook = (tx: Queryable, outbox: Outbox, event: StepCompletedEvent) => Promise<void>;
export type InstanceCompletionHook = (tx: Queryable, outbox: Outbox, event: InstanceCompletedEvent) => Promise<void>;

/** A hook with the name reasons give when it fails ("signal outputs", "outbound events", ...). */
export interface Named<H> {
  name: string;
  hook: H;
  /** The engine's own hooks: run without a savepoint (a failure is a bug; the job's error handling ends the run). */
  trusted?: boolean;
}

export interface CachedVersion extends WorkflowVersion {
  dag: Dag;
}

/**
 * Numbered versions never change: cache them with their DAG. 'active' and 'latest' are asked of
 * the source every time and come back with the source's current properties (which are kept
 * across versions and may change), reusing the cached DAG.
 */
export class VersionCache {
  private readonly byKey = new Map<string, CachedVersion>();
  constructor(private readonly source: DefinitionSource) {}

  async get(workflowId: string, version: VersionSelector, q?: Queryable): Promise<CachedVersion | undefined> {
    if (typeof version === 'number') {
      const hit = this.byKey.get(`${workflowId}@${version}`);
      if (hit) return hit;
    }
    const v = await this.source.getVersion(workflowId, version, q);
    if (!v) return undefined;
    const key = `${v.workflowId}@${v.version}`;
    let cached = this.byKey.get(key);
    if (!cached) {
      cached = { ...v, dag: buildDag(v.workflow) };
      this.byKey.set(key, cached);
    }
    return typeof version === 'number' ? cached : { ...v, dag: cached.dag };
  }

  async require(workflowId: string, version: number, q?: Queryable): Promise<CachedVersion> {
    const v = await this.get(workflowId, version, q);
    if (!v) throw new Error(`workflow ${workflowId} version ${version} is not in the definition store`);
    return v;
  }
}

/**
 * `enforce`: a value failing its param's validator fails the start, the instance or the step.
 * `ignore`: validators are syntax-checked at push and kept, never evaluated — Maestro's own
 * behaviour, for definitions written against it (some of its samples break their validators).
 */
export type ParamValidatorMode = 'enforce' | 'ignore';

export interface EngineContext {
  db: Db;
  queue: Queue;
  sel: ExpressionPort;
  versions: VersionCache;
  runtimes: RuntimeRegistry;
  gates: Map<string, StepGate>;
  stepHooks: Named<StepCompletionHook>[];
  instanceHooks: Named<InstanceCompletionHook>[];
  extensions: Map<string, SelExtension>;
  timeScale: number;
  /** Whether param `validator`s are checked (default) or only kept, as Maestro does. */
  paramValidators: ParamValidatorMode;
  /**
   * Emits 'step.ready' / 'step.launch' (attemptPk, hrtime ms), 'step.ended' (step type, status,
   * seconds), 'run.started' (workflow id) and 'instance.completed' (event); all but the launch
   * once the transaction recording them has committed, in the process that committed it.
   */
  events: EventEmitter;
  /** Attempts running in this process, to abort them at once on stop. */
  running: Map<number, AbortController>;
  /** Bounds of the output kept per step attempt. */
  stepLogs: StepLogLimits;
  /** A log chunk or Http record could not be stored (the step goes on). */
  onLogError: (err: unknown) => void;
}

export interface StepTimelineEntry {
  attemptPk: number;
  from: string | null;
  to: string | null;
  message: string;
}

export async function writeStepTimeline(q: Queryable, entries: readonly StepTimelineEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await q.query(
    `INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`,
    [entries.map((e) => e.attemptPk), entries.map((e) => e.from), entries.map((e) => e.to), entries.map((e) => e.message)],
  );
}

export async function writeInstanceTimeline(q: Queryable, instancePk: number, from: string | null, to: string, message: string): Promise<void> {
  await q.query('INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message) VALUES ($1, $2, $3, $4)', [instancePk, from, to, message]);
}

export function advanceJob(instancePk: number): { kind: string; key: string; payload: Record<string, unknown> } {
  return { kind: JOB_ADVANCE, key: `advance:${instancePk}`, payload: { instancePk } };
}

export function stepJob(attemptPk: number): { kind: string; key: string; payload: Record<string, unknown> } {
  return { kind: JOB_STEP, key: `step:${attemptPk}`, payload: { attemptPk } };
}

/**
 * The wake-up of a workflow's run strategy. Every instance ending adds one, and adding a keyed job
 * takes its row's lock until the adding transaction commits; with a single key per workflow, all
 * endings of a busy workflow queued behind each other on that row (a drain of a large PARALLEL
 * backlog measured nearly every active transaction waiting there). Endings therefore pass their
 * instance row id, which spreads them over DISPATCH_SHARDS keys; any of the jobs runs the whole
 * dispatch (serialised by the workflow's advisory lock, which the others wait for holding a worker
 * slot: hence few keys), and each key still coalesces wake-ups that arrive while its job waits or
 * runs, so none is lost.
 */
export function dispatchJob(workflowId: string, spreadBy?: number): { kind: string; key: string; payload: Record<string, unknown> } {
  if (spreadBy === undefined) return { kind: JOB_DISPATCH, key: `dispatch:${workflowId}`, payload: { workflowId } };
  // An ending's wake-up usually finds nothing queued: `ended` lets it check that first (see
  // dispatchWorkflow), outside the transaction and the workflow's lock.
  return { kind: JOB_DISPATCH, key: `dispatch:${workflowId}#${Math.abs(Number(spreadBy)) % DISPATCH_SHARDS}`, payload: { workflowId, ended: true } };
}

/** Keys an instance's ending spreads its dispatch wake-up over (see dispatchJob). */
export const DISPATCH_SHARDS = 4;
