import type { Queryable } from '../db/db.js';
import type { SubworkflowStep } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { dispatchJob, writeStepTimeline, type CachedVersion, type EngineContext, type StepRef } from './context.js';
import type { VersionSelector } from './definitions.js';
import { refOf, type LoopRow } from './loop-helpers.js';
import { isInlineWorkflowId } from './inline-definitions.js';
import { decodeParams, encodeParams, type EvaluatedParams } from './params.js';
import type { AttemptTarget } from './attempt-target.js';
import { endAttempt, finish, guardedTransition } from './step-ending.js';
import { evaluateStepParams } from './step-evaluation.js';
import type { StepStatus } from './status.js';

const RESERVED = new Set(['subworkflow_id', 'subworkflow_version']);

/** `subworkflow_version`: a number, 'active' (Maestro's default) or 'latest'. */
function versionSelector(raw: unknown): VersionSelector {
  if (raw === undefined) return 'active';
  const text = String(raw).trim().toLowerCase();
  if (text === 'active' || text === 'latest' || text === 'default') return text === 'latest' ? 'latest' : 'active';
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`subworkflow_version must be a version number, 'active' or 'latest', got ${String(raw)}`);
  return n;
}

/** How many subworkflow steps (not loop iterations) lie above this instance. */
async function nestingDepth(q: Queryable, instancePk: number): Promise<number> {
  const res = await q.query<{ depth: number }>(
    `WITH RECURSIVE up AS (
       SELECT i.id, i.workflow_id, i.parent_attempt_pk, 0 AS depth FROM baton_workflow_instances i WHERE i.id = $1
       UNION ALL
       SELECT p.id, p.workflow_id, p.parent_attempt_pk, up.depth + CASE WHEN position('#' in up.workflow_id) = 0 THEN 1 ELSE 0 END
       FROM up JOIN baton_step_attempts a ON a.id = up.parent_attempt_pk JOIN baton_workflow_instances p ON p.id = a.instance_pk
       WHERE up.depth < 1000
     ) SELECT max(depth)::int AS depth FROM up`,
    [instancePk],
  );
  return res.rows[0]?.depth ?? 0;
}

export interface SubworkflowStart {
  ref: StepRef;
  def: CachedVersion;
  step: SubworkflowStep;
  generation: number;
  from: StepStatus;
  workflowParams: EvaluatedParams;
  depthLimit: number;
}

/**
 * Starts a subworkflow step: evaluates its params (`subworkflow_id` and `subworkflow_version`
 * may be SEL), resolves the version, and creates the child instance — queued under the child
 * workflow's run strategy like any start — in the transaction that makes the step RUNNING. A
 * synchronous step then waits for the child (its outcome becomes the step's); `sync: false`
 * succeeds once the child is queued.
 */
export async function beginSubworkflow(ctx: EngineContext, c: SubworkflowStart): Promise<void> {
  const { ref, step } = c;
  const fail = async (message: string, own: EvaluatedParams = {}): Promise<void> => {
    await ctx.queue.tx(async (tx, outbox) => {
      await writeStepTimeline(tx, [{ attemptPk: ref.attemptPk, from: c.from, to: 'EVALUATING_PARAMS', message: 'gates open' }]);
      await endAttempt(ctx, tx, outbox, ref, c.generation, 'EVALUATING_PARAMS', 'USER_FAILED', message, own, null, {});
    });
  };
  const defs = { ...step.params, subworkflow_id: step.subworkflowId, ...(step.subworkflowVersion ? { subworkflow_version: step.subworkflowVersion } : {}) };
  let own: EvaluatedParams;
  let child: CachedVersion | undefined;
  let selector: VersionSelector;
  try {
    own = await evaluateStepParams(ctx, ctx.db, c.def, ref, { ...step, params: defs }, c.workflowParams);
    const id = own.subworkflow_id?.value;
    if (typeof id !== 'string' || !id) throw new Error('subworkflow_id must be a non-empty string');
    selector = versionSelector(own.subworkflow_version?.value);
    child = await ctx.versions.get(id, selector);
    if (!child) throw new Error(`subworkflow ${id} has no ${typeof selector === 'number' ? `version ${selector}` : `${selector} version`}`);
    const depth = await nestingDepth(ctx.db, ref.instancePk);
    if (depth + 1 > c.depthLimit) throw new Error(`subworkflow ${id} would nest ${depth + 1} levels deep (the limit is ${c.depthLimit})`);
  } catch (e) {
    return fail((e as Error).message);
  }
  // Passed down: the step's own params, and unless explicit_params the parent's user-defined
  // workflow params too (engine-provided ones such as workflow_instance_id belong to each run).
  const runParams: EvaluatedParams = {};
  if (!step.explicitParams) {
    const root = await ctx.versions.require(isInlineWorkflowId(ref.workflowId) ? ref.workflowId.split('#')[0]! : ref.workflowId, ref.version);
    for (const name of Object.keys(root.workflow.params)) if (c.workflowParams[name]) runParams[name] = c.workflowParams[name];
  }
  for (const name of Object.keys(step.params)) if (own[name] && !RESERVED.has(name)) runParams[name] = own[name];

  await ctx.queue.tx(async (tx, outbox) => {
    const started = await guardedTransition(tx, ref.attemptPk, c.generation, c.from, 'RUNNING', { params: encodeParams(own), started: true }, [
      { from: c.from, to: 'EVALUATING_PARAMS', message: 'gates open' },
      { from: 'EVALUATING_PARAMS', to: 'RUNNING', message: `starting subworkflow ${child.workflowId} version ${child.version}` },
    ]);
    if (!started) return;
    const created = await tx.query<{ id: number; instance_id: number }>(
      `WITH c AS (
         INSERT INTO baton_workflow_state (workflow_id, last_instance_id) VALUES ($1, 1)
         ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + 1
         RETURNING last_instance_id
       ), i AS (
         INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator, run_params, parent_attempt_pk, iteration)
         SELECT $1, $2, c.last_instance_id, 1, 'CREATED', $3, $4::jsonb, $5::jsonb, $6, 0 FROM c
         RETURNING id, instance_id
       ), t AS (
         INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message) SELECT id, NULL, 'CREATED', $7 FROM i
       ) SELECT id, instance_id FROM i`,
      [
        child.workflowId, child.version, `subworkflow:${ref.attemptPk}`,
        JSON.stringify({ type: 'SUBWORKFLOW', parent: { workflowId: ref.workflowId, instanceId: ref.instanceId, runId: ref.runId, stepId: ref.stepId, attemptId: ref.attemptId } }),
        encodeParams(runParams), ref.attemptPk, `started by subworkflow step ${ref.stepId} of ${ref.workflowId}/${ref.instanceId}`,
      ],
    );
    const row = created.rows[0]!;
    await outbox.add(dispatchJob(child.workflowId));
    const outputs = { subworkflow_instance_id: { type: 'LONG' as const, value: BigInt(row.instance_id) }, subworkflow_version: { type: 'LONG' as const, value: BigInt(child.version) } };
    if (step.sync === false) {
      const target: AttemptTarget = { ref, def: c.def, step, stepType: 'subworkflow', generation: c.generation, merged: { ...c.workflowParams, ...own, ...outputs }, own };
      await finish(ctx, tx, outbox, target, { status: 'SUCCEEDED', message: `subworkflow ${child.workflowId}/${row.instance_id} started (sync: false)`, outputs: plain(outputs) });
      return;
    }
    await tx.query('INSERT INTO baton_loop_state (attempt_pk, total) VALUES ($1, 1) ON CONFLICT (attempt_pk) DO NOTHING', [ref.attemptPk]);
  });
}

function plain(p: EvaluatedParams): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [k, tv] of Object.entries(p)) out[k] = tv.value as bigint;
  return out;
}

/** A synchronous subworkflow step ends with its child: SUCCEEDED, or failed with the child's reason. */
export async function subworkflowTick(ctx: EngineContext, tx: Queryable, outbox: Outbox, row: LoopRow, def: CachedVersion, step: SubworkflowStep): Promise<void> {
  if (Number(row.succeeded) + Number(row.failed) + Number(row.stopped) < 1) return;
  const kid = (
    await tx.query<{ workflow_id: string; instance_id: number; version: number; status: string; reason: string | null }>(
      'SELECT workflow_id, instance_id, version, status, reason FROM baton_workflow_instances WHERE parent_attempt_pk = $1 ORDER BY id DESC LIMIT 1',
      [row.id],
    )
  ).rows[0];
  const own = decodeParams(row.params);
  const target: AttemptTarget = { ref: refOf(row), def, step, stepType: 'subworkflow', generation: Number(row.generation), merged: { ...decodeParams(row.instance_params), ...own }, own };
  const name = kid ? `${kid.workflow_id}/${kid.instance_id}` : 'the subworkflow';
  const outputs: Record<string, bigint> = kid ? { subworkflow_instance_id: BigInt(kid.instance_id), subworkflow_version: BigInt(kid.version) } : {};
  if (kid?.status === 'SUCCEEDED') {
    await finish(ctx, tx, outbox, target, { status: 'SUCCEEDED', message: `subworkflow ${name} succeeded`, outputs });
  } else {
    await finish(ctx, tx, outbox, target, { status: 'USER_FAILED', message: `subworkflow ${name} ended ${kid?.status ?? 'unknown'}${kid?.reason ? `: ${kid.reason}` : ''}`, outputs });
  }
}
