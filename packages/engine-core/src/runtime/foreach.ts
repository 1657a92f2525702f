import type { Queryable } from '../db/db.js';
import { DEFAULT_STEP_CONCURRENCY, type ForeachStep, type ParamType, type ParamValue } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import { type EngineContext, type InstanceCompletedEvent } from './context.js';
import { decodeParams, encodeParams, type EvaluatedParams, type TypedValue } from './params.js';
import type { AttemptTarget } from './attempt-target.js';
import { finish } from './step-ending.js';
import { stopInstanceTx } from './stop.js';
import { subworkflowTick } from './subworkflow.js';
import { whileTick } from './while.js';
import { createIterations, FOREACH_ITERATION_LIMIT, inheritedParams, loopJob, loopParamsMap, refOf, type LoopRow } from './loop-helpers.js';


/** Children created per controller transaction, so one transaction never grows with the loop. */
const LAUNCH_BATCH = 200;

const SCALAR_OF: Partial<Record<ParamType, ParamType>> = {
  STRING_ARRAY: 'STRING',
  LONG_ARRAY: 'LONG',
  DOUBLE_ARRAY: 'DOUBLE',
  BOOLEAN_ARRAY: 'BOOLEAN',
};


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


function childParams(base: EvaluatedParams, axes: LoopAxes, index: number): EvaluatedParams {
  const vars = iterationValues(axes, index);
  const index64: TypedValue = { type: 'LONG', value: BigInt(index) };
  return { ...base, ...vars, loop_index: index64, loop_params: loopParamsMap(vars) };
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
  // A top-level run has no attempt to tally on (known when the ending path read its parent).
  if (event.parentAttemptPk === null) return;
  const column = event.status === 'SUCCEEDED' ? 'succeeded' : event.status === 'STOPPED' ? 'stopped' : 'failed';
  const res = await tx.query<{ attempt_pk: number }>(
    `UPDATE baton_loop_state s SET ${column} = s.${column} + 1
     FROM baton_workflow_instances i WHERE i.id = $1 AND s.attempt_pk = i.parent_attempt_pk RETURNING s.attempt_pk`,
    [event.instancePk],
  );
  const parent = res.rows[0]?.attempt_pk;
  if (parent !== undefined) await outbox.add(loopJob(Number(parent)));
}
