import type { Queryable } from '../db/db.js';
import { DEFAULT_STEP_CONCURRENCY, type ForeachStep, type ParamDefMap, type ParamType, type ParamValue } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { advanceJob, stepJob, type CachedVersion, type EngineContext, type InstanceCompletedEvent, type StepRef } from './context.js';
import { decide } from './dag-state.js';
import { inlineWorkflowId } from './inline-definitions.js';
import { decodeParams, encodeParams, type EvaluatedParams, type TypedValue } from './params.js';
import { finish, type AttemptTarget, type OwnedRow } from './step-job.js';
import { stopInstanceTx } from './stop.js';
import { SUBWORKFLOW_DEPTH_LIMIT, subworkflowTick } from './subworkflow.js';
import { WHILE_ITERATION_LIMIT, whileTick } from './while.js';

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

/** Children created per controller transaction, so one transaction never grows with the loop. */
const LAUNCH_BATCH = 200;

const SCALAR_OF: Partial<Record<ParamType, ParamType>> = {
  STRING_ARRAY: 'STRING',
  LONG_ARRAY: 'LONG',
  DOUBLE_ARRAY: 'DOUBLE',
  BOOLEAN_ARRAY: 'BOOLEAN',
};

export function loopJob(attemptPk: number): { kind: string; key: string; payload: Record<string, unknown> } {
  return { kind: JOB_LOOP, key: `loop:${attemptPk}`, payload: { attemptPk } };
}

/** The loop variables of a foreach attempt: names, their arrays and the scalar type of an element. */
export interface LoopAxes {
  names: string[];
  arrays: ParamValue[][];
  types: ParamType[];
  total: number;
}

/** Checks the evaluated loop params and sizes the cartesian product (without building it). */
export function loopAxes(step: ForeachStep, own: EvaluatedParams, limit = FOREACH_ITERATION_LIMIT): LoopAxes {
  const names = Object.keys(step.loopParams);
  if (names.length === 0) throw new Error(`foreach step ${step.id} has no loop_params`);
  const arrays: ParamValue[][] = [];
  const types: ParamType[] = [];
  let total = 1;
  for (const name of names) {
    const tv = own[name];
    const scalar = tv && SCALAR_OF[tv.type];
    if (!tv || !scalar || !Array.isArray(tv.value)) {
      throw new Error(`loop param ${name} of foreach step ${step.id} must be an array (STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY or BOOLEAN_ARRAY), got ${tv?.type ?? 'nothing'}`);
    }
    arrays.push(tv.value as ParamValue[]);
    types.push(scalar);
    total *= tv.value.length;
    if (total > limit) throw new Error(`foreach step ${step.id} would run more than ${limit} iterations (the iteration limit)`);
  }
  return { names, arrays, types, total };
}

/**
 * The loop variables of iteration `index` (0-based) of the cartesian product, the last loop param
 * varying fastest — computed from the index, so no iteration list is ever built.
 */
export function iterationValues(axes: LoopAxes, index: number): EvaluatedParams {
  const out: EvaluatedParams = {};
  let rest = index;
  for (let d = axes.names.length - 1; d >= 0; d--) {
    const arr = axes.arrays[d]!;
    const value = arr[rest % arr.length]!;
    rest = Math.floor(rest / arr.length);
    Object.defineProperty(out, axes.names[d]!, { value: { type: axes.types[d]!, value }, enumerable: true, writable: true, configurable: true });
  }
  return out;
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

function childParams(base: EvaluatedParams, axes: LoopAxes, index: number): EvaluatedParams {
  const vars = iterationValues(axes, index);
  const index64: TypedValue = { type: 'LONG', value: BigInt(index) };
  return { ...base, ...vars, loop_index: index64, loop_params: loopParamsMap(vars) };
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

/** Decoded loop inputs per attempt: a loop's params never change once it is RUNNING. */
const axesCache = new WeakMap<EngineContext, Map<number, { axes: LoopAxes; own: EvaluatedParams; base: EvaluatedParams }>>();

function cachedLoop(ctx: EngineContext, row: LoopRow, step: ForeachStep): { axes: LoopAxes; own: EvaluatedParams; base: EvaluatedParams } {
  let cache = axesCache.get(ctx);
  if (!cache) axesCache.set(ctx, (cache = new Map()));
  let hit = cache.get(row.id);
  if (!hit) {
    const own = decodeParams(row.params);
    hit = { axes: loopAxes(step, own), own, base: inheritedParams(step, decodeParams(row.instance_params), own) };
    if (cache.size >= 256) cache.delete(cache.keys().next().value!);
    cache.set(row.id, hit);
  }
  return hit;
}

function forgetLoop(ctx: EngineContext, attemptPk: number): void {
  axesCache.get(ctx)?.delete(attemptPk);
}

/**
 * The loop controller (foreach here, while in `while.ts`), run as a queue job whenever an
 * iteration ends: under the attempt's and the loop state's row locks it launches iterations from
 * the cursor up to `concurrency`, and ends the attempt once every iteration ended (or at the first
 * failure with FAIL_IMMEDIATELY).
 */
export async function runLoopJob(ctx: EngineContext, attemptPk: number): Promise<void> {
  await ctx.queue.tx(async (tx, outbox) => {
    const row = (
      await tx.query<LoopRow>(
        `SELECT a.id, a.step_id, a.attempt_id, a.status, a.generation, a.params, a.instance_pk,
           i.workflow_id, i.version, i.instance_id, i.run_id, i.status AS instance_status, i.params AS instance_params,
           s.total, s.launched, s.succeeded, s.failed, s.stopped, s.carried, s.previous_attempt_pk
         FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
           JOIN baton_loop_state s ON s.attempt_pk = a.id
         WHERE a.id = $1 FOR UPDATE OF a, s`,
        [attemptPk],
      )
    ).rows[0];
    if (!row || row.status !== 'RUNNING' || row.instance_status !== 'IN_PROGRESS') {
      forgetLoop(ctx, attemptPk);
      return;
    }
    const def = await ctx.versions.require(row.workflow_id, row.version);
    const step = def.dag.steps.get(row.step_id);
    if (!step || step.kind === 'step') throw new Error(`attempt ${attemptPk} is not a loop or subworkflow step of ${row.workflow_id} v${row.version}`);
    if (step.kind === 'subworkflow') {
      await subworkflowTick(ctx, tx, outbox, row, def, step);
      return;
    }
    if (step.kind === 'while') {
      await whileTick(ctx, tx, outbox, row, def, step);
      return;
    }
    const { axes, own, base } = cachedLoop(ctx, row, step);
    const total = Number(row.total);
    const launched = Number(row.launched);
    const failed = Number(row.failed);
    const ended = Number(row.succeeded) + failed + Number(row.stopped);
    const failFast = failed > 0 && step.failureMode === 'FAIL_IMMEDIATELY';

    if (failFast || ended >= total) {
      if (failFast) await stopChildren(ctx, tx, outbox, attemptPk, `foreach step ${step.id}: an iteration failed (failure mode FAIL_IMMEDIATELY)`);
      const target: AttemptTarget = {
        ref: refOf(row),
        def,
        step,
        stepType: 'foreach',
        generation: Number(row.generation),
        merged: { ...decodeParams(row.instance_params), ...own },
        own,
      };
      const tally = `${total} iterations: ${row.succeeded} succeeded, ${failed} failed, ${row.stopped} stopped`;
      // A stopped iteration (stopped on its own) fails the loop as a failed one does.
      await finish(ctx, tx, outbox, target, { status: ended - Number(row.succeeded) > 0 ? 'USER_FAILED' : 'SUCCEEDED', message: tally });
      forgetLoop(ctx, attemptPk);
      return;
    }

    const concurrency = Math.max(1, step.concurrency ?? DEFAULT_STEP_CONCURRENCY);
    const room = Math.min(concurrency - (launched - ended), total - launched);
    const count = Math.min(room, LAUNCH_BATCH);
    if (count <= 0) return;
    // A restarted run: iterations that succeeded in the run before count as done, unlaunched.
    const done = new Set<number>();
    if (row.previous_attempt_pk != null) {
      const prev = await tx.query<{ iteration: number }>(
        `SELECT iteration FROM baton_workflow_instances
         WHERE parent_attempt_pk = $1 AND iteration >= $2 AND iteration < $3 AND status = 'SUCCEEDED'`,
        [row.previous_attempt_pk, launched, launched + count],
      );
      for (const r of prev.rows) done.add(Number(r.iteration));
    }
    const indexes: number[] = [];
    const params: string[] = [];
    for (let k = launched; k < launched + count; k++) {
      if (done.has(k)) continue;
      indexes.push(k);
      params.push(encodeParams(childParams(base, axes, k)));
    }
    if (indexes.length > 0) await createIterations(tx, outbox, row, step.id, 'FOREACH', indexes, params, ctx);
    await tx.query('UPDATE baton_loop_state SET launched = launched + $2, succeeded = succeeded + $3 WHERE attempt_pk = $1', [attemptPk, count, done.size]);
    // More room than one batch, or iterations carried over: come back at once rather than wait
    // for an iteration to end.
    if (room > count || done.size > 0) await outbox.add(loopJob(attemptPk));
  });
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

/** Stops the open iterations of a loop attempt (and, through them, anything they started). */
export async function stopChildren(ctx: EngineContext, tx: Queryable, outbox: Outbox, attemptPk: number, reason: string): Promise<void> {
  const open = await tx.query<{ id: number }>(
    `SELECT id FROM baton_workflow_instances WHERE parent_attempt_pk = $1 AND status IN ('CREATED', 'IN_PROGRESS', 'PAUSED') ORDER BY id`,
    [attemptPk],
  );
  for (const c of open.rows) await stopInstanceTx(ctx, tx, outbox, c.id, 'STOPPED', reason);
}

/**
 * Instance completion hook: an ended child (loop iteration or subworkflow run) is tallied on the
 * attempt that started it, in the transaction that ended it, and that attempt's controller is
 * woken up.
 */
export async function onIterationEnded(tx: Queryable, outbox: Outbox, event: InstanceCompletedEvent): Promise<void> {
  const column = event.status === 'SUCCEEDED' ? 'succeeded' : event.status === 'STOPPED' ? 'stopped' : 'failed';
  const res = await tx.query<{ attempt_pk: number }>(
    `UPDATE baton_loop_state s SET ${column} = s.${column} + 1
     FROM baton_workflow_instances i WHERE i.id = $1 AND s.attempt_pk = i.parent_attempt_pk RETURNING s.attempt_pk`,
    [event.instancePk],
  );
  const parent = res.rows[0]?.attempt_pk;
  if (parent !== undefined) await outbox.add(loopJob(Number(parent)));
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
