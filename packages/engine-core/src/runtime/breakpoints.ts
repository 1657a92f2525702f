import type { Db, Queryable } from '../db/db.js';
import { walkSteps } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { stepJob, writeStepTimeline, type EngineContext, type StepRef } from './context.js';
import { isInlineWorkflowId, rootWorkflowId } from './inline-definitions.js';
import { StepActionError } from './step-action-error.js';

/** Where a breakpoint applies: a workflow's step, optionally narrowed (absent = any). */
export interface BreakpointScope {
  version?: number;
  instanceId?: number;
  runId?: number;
  attemptId?: number;
}

export interface Breakpoint extends BreakpointScope {
  id: number;
  workflowId: string;
  stepId: string;
  createdBy: unknown;
  createdAt: Date;
  /** Attempts this breakpoint holds right now. */
  paused: number;
}

interface BreakpointRow {
  id: number;
  workflow_id: string;
  step_id: string;
  version: number | null;
  instance_id: number | null;
  run_id: number | null;
  attempt_id: number | null;
  created_by: unknown;
  created_at: Date;
  paused?: number;
}

const SCOPE_KEYS = ['version', 'instanceId', 'runId', 'attemptId'] as const;

function toBreakpoint(r: BreakpointRow): Breakpoint {
  const b: Breakpoint = { id: Number(r.id), workflowId: r.workflow_id, stepId: r.step_id, createdBy: r.created_by, createdAt: r.created_at, paused: Number(r.paused ?? 0) };
  if (r.version !== null) b.version = r.version;
  if (r.instance_id !== null) b.instanceId = Number(r.instance_id);
  if (r.run_id !== null) b.runId = r.run_id;
  if (r.attempt_id !== null) b.attemptId = r.attempt_id;
  return b;
}

function checkScope(scope: BreakpointScope): void {
  for (const k of SCOPE_KEYS) {
    const v = scope[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new StepActionError('invalid', `breakpoint ${k} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * Sets a breakpoint on a step of a workflow's latest version (a step inside a foreach or while
 * loop too). Setting the same breakpoint again changes nothing (created: false).
 */
export async function setBreakpoint(
  ctx: EngineContext,
  workflowId: string,
  stepId: string,
  scope: BreakpointScope = {},
  createdBy: unknown = {},
): Promise<{ breakpoint: Breakpoint; created: boolean }> {
  checkScope(scope);
  const latest = await ctx.versions.get(workflowId, 'latest');
  if (!latest || isInlineWorkflowId(workflowId)) throw new StepActionError('not_found', `workflow ${workflowId} does not exist`);
  let found = false;
  walkSteps(latest.workflow.steps, (s) => {
    if (s.id === stepId) found = true;
  });
  if (!found) throw new StepActionError('not_found', `workflow ${workflowId} (version ${latest.version}) has no step ${stepId}`);
  const params = [workflowId, stepId, scope.version ?? null, scope.instanceId ?? null, scope.runId ?? null, scope.attemptId ?? null];
  const ins = await ctx.db.query<BreakpointRow>(
    `INSERT INTO baton_breakpoints (workflow_id, step_id, version, instance_id, run_id, attempt_id, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT DO NOTHING RETURNING *`,
    [...params, JSON.stringify(createdBy ?? {})],
  );
  if (ins.rows[0]) return { breakpoint: toBreakpoint(ins.rows[0]), created: true };
  const existing = await ctx.db.query<BreakpointRow>(
    `SELECT * FROM baton_breakpoints WHERE workflow_id = $1 AND step_id = $2 AND version IS NOT DISTINCT FROM $3::int
       AND instance_id IS NOT DISTINCT FROM $4::bigint AND run_id IS NOT DISTINCT FROM $5::int AND attempt_id IS NOT DISTINCT FROM $6::int`,
    params,
  );
  return { breakpoint: toBreakpoint(existing.rows[0]!), created: false };
}

/** The breakpoints of a workflow (of one step, if given), with how many attempts each holds. */
export async function listBreakpoints(db: Db, workflowId: string, stepId?: string): Promise<Breakpoint[]> {
  const res = await db.query<BreakpointRow>(
    `SELECT b.*, (SELECT count(*)::int FROM baton_step_pauses p JOIN baton_step_attempts a ON a.id = p.attempt_pk
                  WHERE p.breakpoint_id = b.id AND p.released_at IS NULL AND a.status = 'PAUSED') AS paused
     FROM baton_breakpoints b WHERE b.workflow_id = $1 AND ($2::text IS NULL OR b.step_id = $2) ORDER BY b.step_id, b.id`,
    [workflowId, stepId ?? null],
  );
  return res.rows.map(toBreakpoint);
}

/**
 * Deletes the breakpoints of a step (only the one with exactly this scope, when one is given)
 * and resumes every attempt they paused. Returns how many were deleted and resumed.
 */
export async function deleteBreakpoints(
  ctx: EngineContext,
  workflowId: string,
  stepId: string,
  scope?: BreakpointScope,
): Promise<{ deleted: number; resumed: number }> {
  if (scope) checkScope(scope);
  return ctx.queue.tx(async (tx, outbox) => {
    const del = await tx.query<{ id: number }>(
      `DELETE FROM baton_breakpoints WHERE workflow_id = $1 AND step_id = $2 AND (NOT $3::boolean OR (
         version IS NOT DISTINCT FROM $4::int AND instance_id IS NOT DISTINCT FROM $5::bigint
         AND run_id IS NOT DISTINCT FROM $6::int AND attempt_id IS NOT DISTINCT FROM $7::int)) RETURNING id`,
      [workflowId, stepId, scope !== undefined, scope?.version ?? null, scope?.instanceId ?? null, scope?.runId ?? null, scope?.attemptId ?? null],
    );
    const ids = del.rows.map((r) => Number(r.id));
    const resumed = ids.length === 0 ? 0 : await releasePauses(tx, outbox, { breakpointIds: ids }, `breakpoint on ${stepId} deleted: resumed`);
    return { deleted: ids.length, resumed };
  });
}

/**
 * Lets paused attempts continue: marks their pauses released and queues their step jobs again,
 * in the caller's transaction. Returns how many were released.
 */
export async function releasePauses(
  tx: Queryable,
  outbox: Outbox,
  which: { breakpointIds: readonly number[] } | { attemptPk: number },
  message: string,
): Promise<number> {
  const byAttempt = 'attemptPk' in which;
  const args = [byAttempt, byAttempt ? which.attemptPk : null, byAttempt ? [] : which.breakpointIds];
  // Attempt rows first, in id order, as a step action takes its attempt's row before its pause:
  // the timeline rows written below take a key-share lock on each attempt row, so releasing
  // pauses first could wait for a step action that waits for one of those pauses (a deadlock).
  await tx.query(
    `SELECT a.id FROM baton_step_attempts a JOIN baton_step_pauses p ON p.attempt_pk = a.id
     WHERE a.status = 'PAUSED' AND p.released_at IS NULL
       AND (CASE WHEN $1::boolean THEN p.attempt_pk = $2::bigint ELSE p.breakpoint_id = ANY($3::bigint[]) END)
     ORDER BY a.id FOR UPDATE OF a`,
    args,
  );
  const res = await tx.query<{ attempt_pk: number }>(
    `UPDATE baton_step_pauses p SET released_at = now(), released_by = $3
     FROM baton_step_attempts a
     WHERE a.id = p.attempt_pk AND a.status = 'PAUSED' AND p.released_at IS NULL
       AND (CASE WHEN $1::boolean THEN p.attempt_pk = $2::bigint ELSE p.breakpoint_id = ANY($4::bigint[]) END)
     RETURNING p.attempt_pk`,
    [byAttempt, byAttempt ? which.attemptPk : null, message, byAttempt ? [] : which.breakpointIds],
  );
  const pks = res.rows.map((r) => Number(r.attempt_pk));
  await writeStepTimeline(tx, pks.map((attemptPk) => ({ attemptPk, from: 'PAUSED', to: null, message })));
  await outbox.addMany(pks.map(stepJob));
  return pks.length;
}

/**
 * The step job's breakpoint check, before the gates: a fresh attempt (INITIALIZED) that matches
 * a breakpoint moves to PAUSED and its job ends, so it waits in the database and holds no worker;
 * a PAUSED attempt goes on only once released. Returns true when the job must stop here.
 */
export async function holdAtBreakpoint(ctx: EngineContext, ref: StepRef, generation: number, status: string): Promise<boolean> {
  if (status === 'PAUSED') {
    const res = await ctx.db.query<{ released: boolean }>('SELECT released_at IS NOT NULL AS released FROM baton_step_pauses WHERE attempt_pk = $1', [ref.attemptPk]);
    return res.rows[0]?.released !== true;
  }
  if (status !== 'INITIALIZED') return false;
  const bp = await matchingBreakpoint(ctx.db, ref);
  if (!bp) return false;
  const scope = [bp.version && `version ${bp.version}`, bp.instance_id && `instance ${bp.instance_id}`, bp.run_id && `run ${bp.run_id}`, bp.attempt_id && `attempt ${bp.attempt_id}`].filter(Boolean);
  // The breakpoint row is share-locked so a concurrent delete either sees this pause (and
  // releases it) or wins first, in which case the attempt simply runs.
  const res = await ctx.db.query<{ bp: number }>(
    `WITH b AS (SELECT id FROM baton_breakpoints WHERE id = $3 FOR KEY SHARE),
     u AS (
       UPDATE baton_step_attempts SET status = 'PAUSED', updated_at = now()
       WHERE id = $1 AND generation = $2 AND status = 'INITIALIZED' AND EXISTS (SELECT 1 FROM b) RETURNING id
     ), p AS (
       INSERT INTO baton_step_pauses (attempt_pk, breakpoint_id) SELECT id, $3 FROM u ON CONFLICT (attempt_pk) DO NOTHING
     ), t AS (
       INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message) SELECT id, 'INITIALIZED', 'PAUSED', $4 FROM u
     ) SELECT (SELECT count(*)::int FROM b) AS bp`,
    [ref.attemptPk, generation, bp.id, `paused at breakpoint ${bp.id} on ${bp.workflow_id}/${bp.step_id}${scope.length ? ` (${scope.join(', ')})` : ''}`],
  );
  return (res.rows[0]?.bp ?? 0) > 0;
}

/**
 * The oldest breakpoint matching an attempt. Loop iterations run as inline workflows
 * (`wf#loop`): they match the top-level workflow's breakpoints, narrowed by its instance and run.
 */
async function matchingBreakpoint(db: Queryable, ref: StepRef): Promise<BreakpointRow | undefined> {
  const root = rootWorkflowId(ref.workflowId);
  const candidates = (await db.query<BreakpointRow>('SELECT * FROM baton_breakpoints WHERE workflow_id = $1 AND step_id = $2 ORDER BY id', [root, ref.stepId])).rows;
  if (candidates.length === 0) return undefined;
  let top = { version: ref.version, instanceId: ref.instanceId, runId: ref.runId };
  if (root !== ref.workflowId) {
    const res = await db.query<{ version: number; instance_id: number; run_id: number }>(
      `WITH RECURSIVE up AS (
         SELECT i.workflow_id, i.version, i.instance_id, i.run_id, i.parent_attempt_pk FROM baton_workflow_instances i WHERE i.id = $1
         UNION ALL
         SELECT p.workflow_id, p.version, p.instance_id, p.run_id, p.parent_attempt_pk
         FROM up JOIN baton_step_attempts a ON a.id = up.parent_attempt_pk JOIN baton_workflow_instances p ON p.id = a.instance_pk
         WHERE position('#' in up.workflow_id) > 0
       ) SELECT version, instance_id, run_id FROM up WHERE position('#' in workflow_id) = 0 LIMIT 1`,
      [ref.instancePk],
    );
    const r = res.rows[0];
    if (r) top = { version: r.version, instanceId: Number(r.instance_id), runId: r.run_id };
  }
  return candidates.find(
    (b) =>
      (b.version === null || b.version === top.version) &&
      (b.instance_id === null || Number(b.instance_id) === top.instanceId) &&
      (b.run_id === null || b.run_id === top.runId) &&
      (b.attempt_id === null || b.attempt_id === ref.attemptId),
  );
}
