import type { Db } from '../db/db.js';
import { listInstancesAcross } from '../lists/instance-list.js';
import { toInstanceSummary, type InstanceSummary } from '../lists/instance-summary.js';

export type { InstanceSummary } from '../lists/instance-summary.js';
import type { CachedVersion, VersionCache } from './context.js';
import { decodeParams, type EvaluatedParams } from './params.js';
import type { InstanceStatus, StepStatus } from './status.js';
import { parentOf, subworkflowChildren, type ChildRef, type ParentRef } from './run-links.js';
import { stepHttpResponse, stepLogSummaries, type StepHttpResponse, type StepLogSummary } from './step-logs-read.js';

export interface InstancePage {
  items: InstanceSummary[];
  /** Pass as `before` to get the next (older) page; absent on the last page. */
  nextCursor?: number;
}

export interface StepSummary {
  stepId: string;
  /** NOT_CREATED for a step that never got a row (not reached, or after a failure). */
  status: StepStatus;
  attemptId: number | null;
  reason: string | null;
  startedAt: Date | null;
  endedAt: Date | null;
  /** A subworkflow step's child run. */
  subworkflow?: ChildRef;
}

export interface RunDetails extends InstanceSummary {
  /** The subworkflow step or loop step that started this run (absent for a top-level run). */
  parent?: ParentRef;
  params: EvaluatedParams;
  runParams: EvaluatedParams;
  steps: StepSummary[];
  /** Counts by step status (NOT_CREATED included). */
  rollup: Partial<Record<StepStatus, number>>;
  timeline: TimelineEntry[];
}

export interface TimelineEntry {
  at: Date;
  from: string | null;
  to: string | null;
  message: string;
}

export interface StepAttemptDetails {
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  stepType: string | null;
  status: StepStatus;
  reason: string | null;
  params: EvaluatedParams;
  outputs: EvaluatedParams;
  /** Successor id → whether its condition was true. */
  edges: Record<string, boolean> | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  timeline: TimelineEntry[];
  /** Sizes of what the attempt printed (Shell steps), per stream. */
  logs: StepLogSummary[];
  /** An Http step's response. */
  httpResponse: StepHttpResponse | null;
}

interface InstanceRow {
  id: number;
  workflow_id: string;
  version: number;
  instance_id: number;
  run_id: number;
  status: InstanceStatus;
  request_id: string | null;
  initiator: unknown;
  reason: string | null;
  params: unknown;
  run_params: unknown;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  parent_attempt_pk: number | null;
  iteration: number | string | null;
}

const d = (v: unknown): Date => new Date(v as string);
const dn = (v: unknown): Date | null => (v == null ? null : new Date(v as string));


/** Instances of a workflow (latest run of each), highest instance id first, `limit` per page (1..1000). */
export async function listInstances(db: Db, workflowId: string, opts: { limit?: number; before?: number; status?: InstanceStatus } = {}): Promise<InstancePage> {
  const page = await listInstancesAcross(db, {
    workflowIds: [workflowId],
    order: 'instance',
    limit: Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), 1000),
    ...(opts.before !== undefined ? { beforeInstanceId: opts.before } : {}),
    ...(opts.status ? { statuses: [opts.status] } : {}),
  });
  return page.nextBeforeInstanceId !== undefined ? { items: page.items, nextCursor: page.nextBeforeInstanceId } : { items: page.items };
}

/** One run of an instance with every step's status (latest run when `runId` is omitted). */
export async function getRun(db: Db, versions: VersionCache, workflowId: string, instanceId: number, runId?: number): Promise<RunDetails | undefined> {
  const inst = (
    await db.query<InstanceRow>(
      `SELECT * FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2 AND ($3::int IS NULL OR run_id = $3)
       ORDER BY run_id DESC LIMIT 1`,
      [workflowId, instanceId, runId ?? null],
    )
  ).rows[0];
  if (!inst) return undefined;
  const def: CachedVersion | undefined = await versions.get(workflowId, inst.version);
  const attempts = await db.query<{ id: number; step_id: string; attempt_id: number; step_type: string | null; status: StepStatus; reason: string | null; started_at: unknown; ended_at: unknown; params: unknown; outputs: unknown }>(
    `SELECT DISTINCT ON (step_id) id, step_id, attempt_id, step_type, status, reason, started_at, ended_at,
       CASE WHEN step_type = 'subworkflow' THEN params END AS params, CASE WHEN step_type = 'subworkflow' THEN outputs END AS outputs
     FROM baton_step_attempts
     WHERE instance_pk = $1 ORDER BY step_id, attempt_id DESC`,
    [inst.id],
  );
  const byStep = new Map(attempts.rows.map((a) => [a.step_id, a]));
  const children = await subworkflowChildren(db, attempts.rows.map((a) => ({ pk: a.id, stepId: a.step_id, stepType: a.step_type, params: a.params, outputs: a.outputs })));
  const order = def ? def.dag.order : [...byStep.keys()];
  const steps: StepSummary[] = order.map((stepId) => {
    const a = byStep.get(stepId);
    return a
      ? { stepId, status: a.status, attemptId: a.attempt_id, reason: a.reason, startedAt: dn(a.started_at), endedAt: dn(a.ended_at), ...(children.has(stepId) ? { subworkflow: children.get(stepId)! } : {}) }
      : { stepId, status: 'NOT_CREATED', attemptId: null, reason: null, startedAt: null, endedAt: null };
  });
  const rollup: Partial<Record<StepStatus, number>> = {};
  for (const s of steps) rollup[s.status] = (rollup[s.status] ?? 0) + 1;
  const tl = await db.query<{ at: unknown; from_status: string | null; to_status: string; message: string }>(
    'SELECT at, from_status, to_status, message FROM baton_instance_timeline WHERE instance_pk = $1 ORDER BY id',
    [inst.id],
  );
  const parent = await parentOf(db, inst.parent_attempt_pk, inst.iteration, inst.workflow_id);
  return {
    ...toInstanceSummary(inst),
    ...(parent ? { parent } : {}),
    params: decodeParams(inst.params),
    runParams: decodeParams(inst.run_params),
    steps,
    rollup,
    timeline: tl.rows.map((t) => ({ at: d(t.at), from: t.from_status, to: t.to_status, message: t.message })),
  };
}

/** One step attempt (the latest when `attemptId` is omitted) with params, outputs and timeline. */
export async function getStepAttempt(
  db: Db,
  workflowId: string,
  instanceId: number,
  stepId: string,
  opts: { runId?: number; attemptId?: number } = {},
): Promise<StepAttemptDetails | undefined> {
  const res = await db.query<{
    id: number; instance_id: number; run_id: number; step_id: string; attempt_id: number; step_type: string | null; status: StepStatus;
    reason: string | null; params: unknown; outputs: unknown; edges: Record<string, boolean> | null; created_at: unknown; started_at: unknown; ended_at: unknown;
  }>(
    `SELECT a.*, i.instance_id, i.run_id FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
     WHERE i.workflow_id = $1 AND i.instance_id = $2 AND a.step_id = $3 AND ($4::int IS NULL OR i.run_id = $4)
       AND ($5::int IS NULL OR a.attempt_id = $5)
     ORDER BY i.run_id DESC, a.attempt_id DESC LIMIT 1`,
    [workflowId, instanceId, stepId, opts.runId ?? null, opts.attemptId ?? null],
  );
  const a = res.rows[0];
  if (!a) return undefined;
  const tl = await db.query<{ at: unknown; from_status: string | null; to_status: string | null; message: string }>(
    'SELECT at, from_status, to_status, message FROM baton_step_timeline WHERE attempt_pk = $1 ORDER BY id',
    [a.id],
  );
  return {
    workflowId,
    instanceId: Number(a.instance_id),
    runId: a.run_id,
    stepId: a.step_id,
    attemptId: a.attempt_id,
    stepType: a.step_type,
    status: a.status,
    reason: a.reason,
    params: decodeParams(a.params),
    outputs: decodeParams(a.outputs),
    edges: a.edges,
    createdAt: d(a.created_at),
    startedAt: dn(a.started_at),
    endedAt: dn(a.ended_at),
    timeline: tl.rows.map((t) => ({ at: d(t.at), from: t.from_status, to: t.to_status, message: t.message })),
    logs: await stepLogSummaries(db, a.id),
    httpResponse: await stepHttpResponse(db, a.id),
  };
}
