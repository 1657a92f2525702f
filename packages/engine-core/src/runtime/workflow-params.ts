import type { Queryable } from '../db/db.js';
import type { ParamDefMap, ParamValue, RunStrategy } from '../definition/model.js';
import { defaultWorkflowParams } from '../params/defaults.js';
import type { CachedVersion, EngineContext } from './context.js';
import type { ParamsHost } from './expressions.js';
import { extensionHost, paramTexts, signalReference } from './extension-host.js';
import { decodeParams, evaluateParams, type EvaluatedParams } from './params.js';

/** PARALLEL without `workflow_concurrency`: Maestro's default limit. */
export const DEFAULT_WORKFLOW_CONCURRENCY = 20;

export interface OpenInstance {
  id: number;
  created_at: Date | string;
  initiator: Record<string, unknown> | null;
  version: number;
  instance_id: number;
  run_id: number;
  status: 'CREATED' | 'IN_PROGRESS' | 'PAUSED';
  run_params: unknown;
}

/** Workflow params evaluated before the dispatch transaction, by instance row id. */
export type PreEvaluated = ReadonlyMap<number, { ok: true; params: EvaluatedParams } | { ok: false; error: unknown }>;

const NONE: PreEvaluated = new Map();

/**
 * Per workflow: whether its latest definition had params that may wait for a SEL worker, as the
 * last dispatch saw it, so workflows without such params cost no extra query. A workflow not seen
 * yet is checked (one read of its latest version); a stale `false` (a new version just pushed)
 * means one dispatch evaluates in its transaction, as before, and `noteDispatched` corrects it.
 */
const waitsByWorkflow = new WeakMap<EngineContext, Map<string, boolean>>();

function memo(ctx: EngineContext): Map<string, boolean> {
  let m = waitsByWorkflow.get(ctx);
  if (!m) waitsByWorkflow.set(ctx, (m = new Map()));
  return m;
}

/** Called by the dispatch with the definitions it saw in its transaction. */
export function noteDispatched(ctx: EngineContext, workflowId: string, defs: readonly CachedVersion[]): void {
  const m = memo(ctx);
  if (m.size >= 10_000 && !m.has(workflowId)) m.clear();
  m.set(workflowId, defs.some((d) => mayWait(ctx, d.workflow.params)));
}

/** True when some program among the params (expressions, validators, nested maps) may wait for a SEL worker. */
function mayWait(ctx: EngineContext, defs: ParamDefMap): boolean {
  const waits = (source: string | undefined): boolean => {
    if (source === undefined || source.startsWith('@')) return false;
    try {
      return ctx.sel.compile(source).inline === false;
    } catch {
      return false;
    }
  };
  for (const def of Object.values(defs)) {
    if (waits(def.expression) || waits(def.validator)) return true;
    if (def.type === 'MAP' && def.value && typeof def.value === 'object' && !Array.isArray(def.value) && mayWait(ctx, def.value as ParamDefMap)) return true;
  }
  return false;
}

/**
 * The dispatch runs in a transaction holding the workflow's lock (and, on PGlite, the only
 * connection), so waiting there for a SEL worker would stall other work for up to the wall-clock
 * limit. When the workflow's params hold programs that may wait, the queued instances the run
 * strategy may begin now are evaluated first, outside any transaction (their inputs — definition,
 * run params, initiator, creation time — never change while they are queued); `begin` uses these
 * results. Cheap params are evaluated in the transaction as before.
 */
export async function preEvaluateWorkflowParams(ctx: EngineContext, workflowId: string): Promise<PreEvaluated> {
  if (memo(ctx).get(workflowId) === false) return NONE;
  const latest = await ctx.versions.get(workflowId, 'latest');
  if (!latest || !mayWait(ctx, latest.workflow.params)) return NONE;
  const strategy: RunStrategy = latest.properties.runStrategy ?? { rule: 'SEQUENTIAL' };
  const running = Number(
    (
      await ctx.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM baton_workflow_instances WHERE workflow_id = $1 AND status IN ('IN_PROGRESS', 'PAUSED')`, [
        workflowId,
      ])
    ).rows[0]?.n ?? 0,
  );
  // How many queued instances the run strategy would begin now (the transaction decides for good).
  const count =
    strategy.rule === 'PARALLEL' ? Math.max(0, (strategy.maxConcurrency ?? DEFAULT_WORKFLOW_CONCURRENCY) - running) : strategy.rule === 'LAST_ONLY' || running === 0 ? 1 : 0;
  if (count === 0) return NONE;
  const order = strategy.rule === 'LAST_ONLY' ? 'DESC' : 'ASC';
  const rows = (
    await ctx.db.query<OpenInstance>(
      `SELECT id, version, instance_id, run_id, status, run_params, created_at, initiator FROM baton_workflow_instances
       WHERE workflow_id = $1 AND status = 'CREATED' ORDER BY instance_id ${order}, run_id ${order} LIMIT $2`,
      [workflowId, count],
    )
  ).rows;
  const out = new Map<number, { ok: true; params: EvaluatedParams } | { ok: false; error: unknown }>();
  await Promise.all(
    rows.map(async (inst) => {
      const def = await ctx.versions.require(workflowId, inst.version);
      if (!mayWait(ctx, def.workflow.params)) return;
      try {
        out.set(inst.id, { ok: true, params: await evaluateWorkflowParams(ctx, ctx.db, def, inst, decodeParams(inst.run_params)) });
      } catch (error) {
        out.set(inst.id, { ok: false, error });
      }
    }),
  );
  return out;
}

/** The run's workflow params: the defaults (RUN_TS...), run params over definitions, validators checked. */
export async function evaluateWorkflowParams(ctx: EngineContext, q: Queryable, def: CachedVersion, inst: OpenInstance, runParams: EvaluatedParams): Promise<EvaluatedParams> {
  // RUN_TS: a run param when given (the scheduler gives it), else the time trigger's fire time
  // from the initiator, else the instance's creation time — never the clock at dispatch, so a
  // re-dispatch after a crash computes the same values.
  const fireTime = inst.initiator?.fire_time;
  const scheduled = typeof fireTime === 'string' ? Date.parse(fireTime) : NaN;
  const zone = inst.initiator?.timezone;
  const given: Record<string, ParamValue> = {};
  for (const [k, tv] of Object.entries(runParams)) given[k] = tv.value;
  const defaults = defaultWorkflowParams({
    workflowId: def.workflowId,
    owner: def.properties.owner,
    runTs: Number.isSafeInteger(scheduled) ? scheduled : new Date(inst.created_at).getTime(),
    initiatorTimezone: typeof zone === 'string' ? zone : undefined,
    firstTimeTriggerTimezone: def.workflow.timeTriggers.map((t) => ('timezone' in t ? t.timezone : undefined)).find((z) => z),
    given,
  });
  const base: EvaluatedParams = {};
  for (const [k, p] of Object.entries(defaults)) base[k] = { type: p.type, value: p.value };
  const info: Record<string, string | bigint> = {
    workflow_instance_id: BigInt(inst.instance_id),
    workflow_run_id: BigInt(inst.run_id),
    RUN_POLICY: 'START_FRESH_NEW_RUN',
  };
  for (const [k, v] of Object.entries(info)) base[k] = { type: typeof v === 'bigint' ? 'LONG' : 'STRING', value: v };
  const extensionCtx = { workflowId: def.workflowId, instanceId: inst.instance_id, runId: inst.run_id };
  // The signals that triggered the run, for `params.getFromSignal` and `<signal>__<param>`.
  const extension = await extensionHost(ctx, q, extensionCtx, paramTexts(def.workflow.params));
  const host: Omit<ParamsHost, 'get' | 'containsKey'> = {
    getFromStep: () => undefined,
    getFromInstance: (name) => base[name]?.value,
    extension,
  };
  const evaluated = await evaluateParams(ctx.sel, {
    defs: def.workflow.params,
    base,
    overrides: runParams,
    host,
    signalRef: (name) => signalReference(extension, name),
    validate: ctx.paramValidators === 'enforce',
  });
  return { ...base, ...evaluated };
}

