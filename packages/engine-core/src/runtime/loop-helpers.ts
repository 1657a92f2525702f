/**
 * What every kind of loop step (foreach, while, and the subworkflow step's one child) shares: the
 * limits, the controller job, the loop row, what an iteration inherits, and creating iterations.
 * It imports none of the loop kinds, which all import it.
 */
import type { Queryable } from '../db/db.js';
import { DEFAULT_STEP_CONCURRENCY, type ParamDefMap, type ParamValue } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, stepJob, type CachedVersion, type EngineContext, type StepRef } from './context.js';
import { decide } from './dag-state.js';
import { inlineWorkflowId } from './inline-definitions.js';
import type { EvaluatedParams, TypedValue } from './params.js';
import type { OwnedRow } from './attempt-target.js';

/** Most iterations one while step may run (Maestro's limit). */
export const WHILE_ITERATION_LIMIT = 100_000;

/** How deep subworkflows may nest (a workflow that starts itself stops here). */
export const SUBWORKFLOW_DEPTH_LIMIT = 10;

export const JOB_LOOP = 'engine.loop';

/** Most iterations one foreach may have (the cartesian product of its loop params). */
export const FOREACH_ITERATION_LIMIT = 1_000_000;

export interface LoopLimits {
  /** Most iterations one foreach may run (default FOREACH_ITERATION_LIMIT). */
  foreachIterations: number;
  /** Most iterations one while step may run (default WHILE_ITERATION_LIMIT). */
  whileIterations: number;
  /** How deep subworkflows may nest (default SUBWORKFLOW_DEPTH_LIMIT). */
  subworkflowDepth: number;
}

const limitsByEngine = new WeakMap<EngineContext, LoopLimits>();

export function setLoopLimits(ctx: EngineContext, limits: Partial<LoopLimits>): void {
  for (const [k, v] of Object.entries(limits)) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new Error(`loop limit ${k} must be a positive integer, got ${String(v)}`);
  }
  limitsByEngine.set(ctx, {
    foreachIterations: limits.foreachIterations ?? FOREACH_ITERATION_LIMIT,
    whileIterations: limits.whileIterations ?? WHILE_ITERATION_LIMIT,
    subworkflowDepth: limits.subworkflowDepth ?? SUBWORKFLOW_DEPTH_LIMIT,
  });
}

export function loopLimits(ctx: EngineContext): LoopLimits {
  return limitsByEngine.get(ctx) ?? { foreachIterations: FOREACH_ITERATION_LIMIT, whileIterations: WHILE_ITERATION_LIMIT, subworkflowDepth: SUBWORKFLOW_DEPTH_LIMIT };
}

export function loopJob(attemptPk: number): { kind: string; key: string; payload: Record<string, unknown> } {
  return { kind: JOB_LOOP, key: `loop:${attemptPk}`, payload: { attemptPk } };
}

export interface LoopRow extends Omit<OwnedRow, 'started_at'> {
  total: number;
  launched: number;
  succeeded: number;
  failed: number;
  stopped: number;
  carried: unknown;
  previous_attempt_pk: number | null;
}

export function refOf(row: LoopRow): StepRef {
  return {
    workflowId: row.workflow_id,
    version: row.version,
    instanceId: Number(row.instance_id),
    runId: row.run_id,
    instancePk: row.instance_pk,
    stepId: row.step_id,
    attemptId: row.attempt_id,
    attemptPk: row.id,
  };
}

/** What each iteration inherits: the parent's workflow params and the loop step's own params. */
export function inheritedParams(step: { params: ParamDefMap }, instanceParams: EvaluatedParams, own: EvaluatedParams): EvaluatedParams {
  const base: EvaluatedParams = { ...instanceParams };
  for (const name of Object.keys(step.params)) if (own[name]) base[name] = own[name];
  return base;
}

/**
 * An iteration's `loop_params` MAP. MAP entries are stored untyped (their type is inferred when
 * read back), so a LONG stored as its usual decimal string would come back a STRING: whole numbers
 * within ±2^53 are stored as JSON numbers instead, which read back as exact LONGs. (Beyond that a
 * LONG stays a string: a JSON number that large would lose digits when read.)
 */
export function loopParamsMap(vars: EvaluatedParams): TypedValue {
  const map: Record<string, ParamValue> = {};
  for (const [k, tv] of Object.entries(vars)) {
    const v = tv.value;
    const entry = typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    Object.defineProperty(map, k, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return { type: 'MAP', value: map };
}

/** The steps an iteration starts with: the inner DAG's roots, the first `step_concurrency` of them permitted. */
interface FirstSteps {
  ids: string[];
  statuses: ('INITIALIZED' | 'CREATED')[];
  types: string[];
}

function firstSteps(def: CachedVersion): FirstSteps {
  const ids = decide(def.dag, new Map()).ready;
  const limit = def.properties.stepConcurrency ?? DEFAULT_STEP_CONCURRENCY;
  return {
    ids,
    statuses: ids.map((_, k) => (k < limit ? 'INITIALIZED' : 'CREATED')),
    types: ids.map((id) => {
      const s = def.dag.steps.get(id)!;
      return s.kind === 'step' ? s.type : s.kind;
    }),
  };
}

/**
 * Creates iterations (child instances, IN_PROGRESS) of a loop attempt. Given the engine context,
 * it also does what the iteration's first advance would do — creates its root steps' attempts,
 * permits them and queues their step jobs — in the same statement, sparing each iteration an
 * advance job and its transaction. Without it (or for an inner DAG without roots) each iteration
 * gets an advance job instead.
 */
export async function createIterations(
  tx: Queryable,
  outbox: Outbox,
  row: LoopRow,
  stepId: string,
  kind: 'FOREACH' | 'WHILE',
  indexes: readonly number[],
  params: readonly string[],
  ctx?: EngineContext,
): Promise<void> {
  const childWorkflowId = inlineWorkflowId(row.workflow_id, stepId);
  const first: FirstSteps = ctx ? firstSteps(await ctx.versions.require(childWorkflowId, row.version, tx)) : { ids: [], statuses: [], types: [] };
  const created = await tx.query<{ instance_pk: number; attempt_pk: number | null; status: string | null }>(
    `WITH n AS (
       SELECT nextval(pg_get_serial_sequence('baton_workflow_instances', 'id')) AS id, p.k, p.params
       FROM unnest($3::bigint[], $4::text[]) AS p(k, params)
     ), i AS (
       INSERT INTO baton_workflow_instances (id, workflow_id, version, instance_id, run_id, status, initiator, params, started_at, parent_attempt_pk, iteration)
       SELECT n.id, $1, $2, n.id, 1, 'IN_PROGRESS', $5::jsonb, n.params::jsonb, now(), $6, n.k FROM n
       ON CONFLICT DO NOTHING
       RETURNING id, iteration
     ), t AS (
       INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message)
       SELECT id, NULL, 'IN_PROGRESS', 'iteration ' || iteration || ' of ' || $8 || ' step ' || $7 FROM i
     ), a AS (
       INSERT INTO baton_step_attempts (instance_pk, step_id, attempt_id, status, step_type)
       SELECT i.id, f.s, 1, f.st, f.t FROM i, unnest($9::text[], $10::text[], $11::text[]) WITH ORDINALITY AS f(s, st, t, o)
       ORDER BY i.id, f.o
       RETURNING id, instance_pk, status
     ), st AS (
       INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message)
       SELECT a.id, x.f, x.t, x.m FROM a CROSS JOIN LATERAL (VALUES
         (1, NULL, 'CREATED', 'predecessors done, an incoming condition is true'),
         (2, 'CREATED', 'INITIALIZED', 'got a step_concurrency permit')
       ) AS x(o, f, t, m)
       WHERE x.o = 1 OR a.status = 'INITIALIZED'
       ORDER BY a.id, x.o
     ) SELECT i.id AS instance_pk, a.id AS attempt_pk, a.status FROM i LEFT JOIN a ON a.instance_pk = i.id`,
    [
      childWorkflowId, row.version, indexes, params,
      JSON.stringify({ type: kind, parent: { workflowId: row.workflow_id, instanceId: Number(row.instance_id), runId: row.run_id, stepId, attemptId: row.attempt_id } }),
      row.id, stepId, kind.toLowerCase(), first.ids, first.statuses, first.types,
    ],
  );
  if (first.ids.length === 0) {
    await outbox.addMany(created.rows.map((r) => advanceJob(r.instance_pk)));
    return;
  }
  const permitted = created.rows.filter((r) => r.status === 'INITIALIZED').map((r) => Number(r.attempt_pk));
  await outbox.addMany(permitted.map((id) => stepJob(id)));
  outbox.afterCommit(() => {
    const t = performance.now();
    for (const id of permitted) ctx!.events.emit('step.ready', id, t);
  });
}
