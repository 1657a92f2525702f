import type { Queryable } from '../db/db.js';
import type { ParamValue } from '../definition/model.js';
import type { SelExtension, SelExtensionContext } from './expressions.js';
import { decodeParams } from './params.js';

/** Params (overlaid by outputs) of the steps of each child run, by parent step, in child order. */
type ChildParams = Map<string, Map<string, ParamValue>[]>;

/**
 * Loads what the children (loop iterations, subworkflow runs) of the instance's steps left: only
 * when a program mentions `getFromForeach` / `getFromSubworkflow`, once per evaluation.
 */
async function loadChildParams(q: Queryable, ctx: SelExtensionContext): Promise<ChildParams> {
  const res = await q.query<{ parent_step: string; step_id: string; params: unknown; outputs: unknown }>(
    `SELECT a.step_id AS parent_step, s.step_id, s.params, s.outputs
     FROM baton_workflow_instances i
     JOIN baton_step_attempts a ON a.instance_pk = i.id
       AND a.attempt_id = (SELECT max(attempt_id) FROM baton_step_attempts x WHERE x.instance_pk = i.id AND x.step_id = a.step_id)
     JOIN baton_workflow_instances c ON c.parent_attempt_pk = a.id
     JOIN LATERAL (
       SELECT DISTINCT ON (step_id) step_id, params, outputs FROM baton_step_attempts
       WHERE instance_pk = c.id ORDER BY step_id, attempt_id DESC
     ) s ON true
     WHERE i.workflow_id = $1 AND i.instance_id = $2 AND i.run_id = $3
     ORDER BY a.step_id, c.iteration, c.id`,
    [ctx.workflowId, ctx.instanceId, ctx.runId],
  );
  const out: ChildParams = new Map();
  for (const r of res.rows) {
    const key = `${r.parent_step}\u0000${r.step_id}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    const values = new Map<string, ParamValue>();
    for (const [k, tv] of Object.entries({ ...decodeParams(r.params), ...decodeParams(r.outputs) })) values.set(k, tv.value);
    list.push(values);
  }
  return out;
}

function args3(what: string, args: unknown[]): [string, string, string] {
  if (args.length !== 3 || !args.every((a) => typeof a === 'string')) throw new Error(`params.${what} takes (step id, inner step id, param name) as strings`);
  return args as [string, string, string];
}

/**
 * `params.getFromForeach(foreachStepId, innerStepId, paramName)`: the param's value in every
 * iteration that ran the inner step, in iteration order (of the step's latest attempt; in a
 * restarted run, iterations carried over from the run before are not included).
 */
export const getFromForeach: SelExtension = {
  prepare: loadChildParams,
  call(prepared, _ctx, ...args) {
    const [loop, step, name] = args3('getFromForeach', args);
    const list = (prepared as ChildParams).get(`${loop}\u0000${step}`) ?? [];
    const values = list.map((m) => m.get(name)).filter((v): v is ParamValue => v !== undefined);
    // A loop without iterations yields an empty array; iterations that lack the param are an error.
    if (values.length === 0 && list.length > 0) throw new Error(`params.getFromForeach: no iteration of ${loop} has param ${name} on step ${step}`);
    return values;
  },
};

/** `params.getFromSubworkflow(subworkflowStepId, childStepId, paramName)`: the param in the child run. */
export const getFromSubworkflow: SelExtension = {
  prepare: loadChildParams,
  call(prepared, _ctx, ...args) {
    const [sub, step, name] = args3('getFromSubworkflow', args);
    const list = (prepared as ChildParams).get(`${sub}\u0000${step}`) ?? [];
    const v = list.at(-1)?.get(name);
    if (v === undefined) throw new Error(`params.getFromSubworkflow: the run of ${sub} has no param ${name} on step ${step}`);
    return v;
  },
};
