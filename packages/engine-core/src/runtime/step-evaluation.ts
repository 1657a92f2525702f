/**
 * Evaluating a step's params and its outgoing conditions, with what SEL may read: workflow params,
 * other steps' params and outputs, the signals that triggered the run.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../db/db.js';
import { defaultStepParams } from '../params/defaults.js';
import type { ParamValue, Step } from '../definition/model.js';
import { type CachedVersion, type EngineContext, type StepRef } from './context.js';
import type { ParamsHost, SelExtensionContext } from './expressions.js';
import { decodeParams, evaluateParams, plainValues, type EvaluatedParams } from './params.js';
import { extensionHost, paramTexts, signalReference } from './extension-host.js';
import type { AttemptTarget } from './attempt-target.js';

/** Stable per step instance (run + step), so a resumed or re-evaluated attempt sees the same id. */
function stepInstanceUuid(ref: StepRef): string {
  const h = createHash('sha1').update(`${ref.instancePk}:${ref.stepId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function needsOtherSteps(text: string): boolean {
  return text.includes('__') || text.includes('getFromStep');
}

/** Latest params (overlaid by outputs) of every step of the instance, for cross-step references. */
async function loadStepParams(tx: Queryable, instancePk: number): Promise<Map<string, EvaluatedParams>> {
  const res = await tx.query<{ step_id: string; params: unknown; outputs: unknown }>(
    `SELECT DISTINCT ON (step_id) step_id, params, outputs FROM baton_step_attempts
     WHERE instance_pk = $1 AND params IS NOT NULL ORDER BY step_id, attempt_id DESC`,
    [instancePk],
  );
  return new Map(res.rows.map((r) => [r.step_id, { ...decodeParams(r.params), ...decodeParams(r.outputs) }]));
}

async function hostFor(
  ctx: EngineContext,
  tx: Queryable,
  ref: StepRef,
  def: CachedVersion,
  texts: readonly string[],
  workflowParams: EvaluatedParams,
  self?: EvaluatedParams,
): Promise<{ host: Omit<ParamsHost, 'get' | 'containsKey'>; crossStep: (name: string) => ParamValue | undefined; signalRef: (name: string) => ParamValue | undefined }> {
  const all = texts.join('\n');
  const others = needsOtherSteps(all) ? await loadStepParams(tx, ref.instancePk) : new Map<string, EvaluatedParams>();
  if (self) others.set(ref.stepId, self);
  const extCtx: SelExtensionContext = { workflowId: ref.workflowId, instanceId: ref.instanceId, runId: ref.runId, stepId: ref.stepId };
  const extension = await extensionHost(ctx, tx, extCtx, all);
  const getFromStep = (stepId: string, name: string): ParamValue | undefined => others.get(stepId)?.[name]?.value;
  return {
    host: {
      getFromStep,
      getFromInstance: (name) => workflowParams[name]?.value,
      extension,
    },
    crossStep: (name) => {
      // `job1__sleep_seconds` (Maestro) — step ids may contain '_' too, so try each split point.
      for (let i = name.indexOf('__'); i > 0; i = name.indexOf('__', i + 1)) {
        const stepId = name.slice(0, i);
        if (def.dag.steps.has(stepId)) return getFromStep(stepId, name.slice(i + 2));
      }
      return undefined;
    },
    // As Maestro: a `__` reference to no step of the workflow reads a signal that triggered the run.
    signalRef: (name) => signalReference(extension, name),
  };
}

export async function evaluateStepParams(
  ctx: EngineContext,
  tx: Queryable,
  def: CachedVersion,
  ref: StepRef,
  step: Step,
  workflowParams: EvaluatedParams,
): Promise<EvaluatedParams> {
  const reserved: EvaluatedParams = { workflow_run_id: { type: 'LONG', value: BigInt(ref.runId) } };
  const defaults = defaultStepParams({
    workflowId: ref.workflowId,
    workflowInstanceId: ref.instanceId,
    stepId: ref.stepId,
    stepInstanceUuid: stepInstanceUuid(ref),
    stepAttemptId: ref.attemptId,
    kind: step.kind,
  });
  for (const [k, p] of Object.entries(defaults)) reserved[k] = { type: p.type, value: p.value };
  const texts = [paramTexts(step.params)];
  const { host, crossStep, signalRef } = await hostFor(ctx, tx, ref, def, texts, workflowParams);
  const own = await evaluateParams(ctx.sel, {
    defs: step.params,
    base: { ...workflowParams, ...reserved },
    host,
    crossStep,
    signalRef,
    selfId: ref.stepId,
    validate: ctx.paramValidators === 'enforce',
  });
  return { ...reserved, ...own };
}

export async function evaluateEdges(ctx: EngineContext, tx: Queryable, launch: AttemptTarget, scope: EvaluatedParams): Promise<Record<string, boolean>> {
  const edges: Record<string, boolean> = {};
  const successors = Object.entries(launch.step.transition.successors);
  const complex = successors.filter(([, cond]) => cond.trim() !== 'true' && cond.trim() !== 'false');
  const env = complex.length > 0
    ? await hostFor(ctx, tx, launch.ref, launch.def, complex.map(([, c]) => c), scope, scope)
    : undefined;
  for (const [succ, cond] of successors) {
    const text = cond.trim();
    if (text === 'true' || text === 'false') {
      edges[succ] = text === 'true';
      continue;
    }
    const vars = plainValues(scope);
    let value: unknown;
    try {
      const compiled = ctx.sel.compile(text);
      const visible: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
      for (const n of compiled.names) {
        const v = n in vars ? vars[n] : (env!.crossStep(n) ?? env!.signalRef(n));
        if (v !== undefined) visible[n] = v;
      }
      const host: ParamsHost = { ...env!.host, get: (n) => vars[n], containsKey: (n) => n in vars };
      value = await compiled.evaluate(visible, host);
    } catch (e) {
      throw new Error(`condition for successor ${succ} (${text}): ${(e as Error).message}`, { cause: e });
    }
    if (typeof value !== 'boolean') throw new Error(`condition for successor ${succ} (${text}) must be true or false, got ${String(value)}`);
    edges[succ] = value;
  }
  return edges;
}
