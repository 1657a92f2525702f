import type { Queryable } from '../db/db.js';
import type { ParamValue, WhileStep } from '../definition/model.js';
import type { Outbox } from '../queue/queue.js';
import type { CachedVersion, EngineContext } from './context.js';
import type { ParamsHost } from './expressions.js';
import { extensionHost, signalReference } from './extension-host.js';
import { createIterations, inheritedParams, loopParamsMap, refOf, type LoopRow } from './loop-helpers.js';
import { decodeParams, encodeParams, plainValues, toTypedValue, type EvaluatedParams } from './params.js';
import type { AttemptTarget } from './attempt-target.js';
import { finish } from './step-ending.js';

/**
 * One step of a while loop, under the loop's locks: once the running iteration (if any) ended,
 * carries the loop params forward from it, checks the condition and either launches the next
 * iteration or ends the step. Iterations run one at a time.
 */
export async function whileTick(ctx: EngineContext, tx: Queryable, outbox: Outbox, row: LoopRow, def: CachedVersion, step: WhileStep): Promise<void> {
  const launched = Number(row.launched);
  const succeeded = Number(row.succeeded);
  const ended = succeeded + Number(row.failed) + Number(row.stopped);
  if (ended < launched) return;
  const own = decodeParams(row.params);
  const instanceParams = decodeParams(row.instance_params);
  let carried = decodeParams(row.carried);
  const target = (): AttemptTarget => ({
    ref: refOf(row),
    def,
    step,
    stepType: 'while',
    generation: Number(row.generation),
    merged: { ...instanceParams, ...own, ...carried },
    own: { ...own, ...carried },
  });
  if (ended > succeeded) {
    await finish(ctx, tx, outbox, target(), { status: 'USER_FAILED', message: `iteration ${launched - 1} did not succeed (${launched} iterations run)` });
    return;
  }
  if (launched > 0) carried = await carryForward(tx, row.id, launched - 1, carried);

  let go: unknown;
  try {
    const compiled = ctx.sel.compile(step.condition);
    const scope = plainValues({ ...instanceParams, ...own, ...carried });
    const vars: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
    for (const n of compiled.names) if (n in scope) vars[n] = scope[n]!;
    // The signals that triggered the run, as in the loop's params (getFromSignal, <signal>__<param>).
    const ref = refOf(row);
    const extension = await extensionHost(ctx, tx, { workflowId: ref.workflowId, instanceId: ref.instanceId, runId: ref.runId, stepId: ref.stepId }, step.condition);
    for (const n of compiled.names) {
      if (!(n in vars)) {
        const v = signalReference(extension, n);
        if (v !== undefined) vars[n] = v;
      }
    }
    const host: ParamsHost = {
      get: (n) => scope[n],
      containsKey: (n) => n in scope,
      getFromStep: () => undefined,
      getFromInstance: (n) => instanceParams[n]?.value,
      extension,
    };
    go = await compiled.evaluate(vars, host);
  } catch (e) {
    await finish(ctx, tx, outbox, target(), { status: 'USER_FAILED', message: `while condition (${step.condition}): ${(e as Error).message}` });
    return;
  }
  if (typeof go !== 'boolean') {
    await finish(ctx, tx, outbox, target(), { status: 'USER_FAILED', message: `while condition (${step.condition}) must be true or false, got ${String(go)}` });
    return;
  }
  if (!go) {
    await finish(ctx, tx, outbox, target(), { status: 'SUCCEEDED', message: `condition false after ${launched} iterations` });
    return;
  }
  const limit = Number(row.total);
  if (launched >= limit) {
    await finish(ctx, tx, outbox, target(), { status: 'USER_FAILED', message: `while step ${step.id} reached its iteration limit (${limit}) with the condition still true` });
    return;
  }
  const child: EvaluatedParams = {
    ...inheritedParams(step, instanceParams, own),
    ...carried,
    loop_index: { type: 'LONG', value: BigInt(launched) },
    loop_params: loopParamsMap(carried),
  };
  await createIterations(tx, outbox, row, step.id, 'WHILE', [launched], [encodeParams(child)], ctx);
  await tx.query('UPDATE baton_loop_state SET launched = launched + 1, carried = $2::jsonb WHERE attempt_pk = $1', [row.id, encodeParams(carried)]);
}

/**
 * The loop params for the next iteration: each takes the value the finished iteration's steps
 * left under its name (the step that ended last wins), else keeps its value.
 */
async function carryForward(tx: Queryable, attemptPk: number, iteration: number, carried: EvaluatedParams): Promise<EvaluatedParams> {
  const res = await tx.query<{ params: unknown; outputs: unknown }>(
    `SELECT a.params, a.outputs FROM baton_workflow_instances c JOIN baton_step_attempts a ON a.instance_pk = c.id
     WHERE c.parent_attempt_pk = $1 AND c.iteration = $2 AND a.ended_at IS NOT NULL ORDER BY a.ended_at, a.id`,
    [attemptPk, iteration],
  );
  const next: EvaluatedParams = { ...carried };
  for (const r of res.rows) {
    const seen = { ...decodeParams(r.params), ...decodeParams(r.outputs) };
    for (const name of Object.keys(carried)) {
      const v = seen[name];
      if (v) next[name] = toTypedValue(name, carried[name]!.type, v.value);
    }
  }
  return next;
}
