import type { DefinitionIssue } from '../definition/issues.js';
import { walkSteps, type ParamDefMap, type ParamValue, type Step, type WorkflowRequest } from '../definition/model.js';
import { SelPoolFullError, SelWallClockError } from '../sel-pool/protocol.js';
import { defaultStepParams, defaultWorkflowParams } from '../params/defaults.js';
import type { ExpressionPort, ParamsHost } from './expressions.js';
import { paramTexts, SIGNAL_REFERENCE_EXTENSION } from './extension-host.js';
import { evaluateParams, ParamEvaluationError, type EvaluatedParams } from './params.js';

/**
 * The value a dry run gives a signal param (Maestro's DryRunValidator reads every signal param as
 * this LONG, MaestroParamExtension.DUMMY_VALIDATION_VALUE).
 */
export const DRY_RUN_SIGNAL_VALUE = 20220101n;

/** Longest a push's dry run waits for one SEL program (the run's own limit applies at run time). */
export const DRY_RUN_SEL_TIMEOUT_MS = 1_000;

/** Run params Maestro's dry run gives when the workflow defines them with the same type. */
const DRY_RUN_RUN_PARAMS: Record<string, string> = { FROM_DATE: '20210101', TO_DATE: '20210101' };

/** What a step's params may read that only exists while the workflow runs. */
const RUNTIME_ONLY = /getFromStep|getFromForeach|getFromSubworkflow|getFromSignalDependency|getFromSignalOrDefault/;

export interface DryRunOptions {
  sel: ExpressionPort;
  /** Epoch ms standing for the run's start (RUN_TS and the dates derived from it); default now. */
  now?: number;
}

/**
 * Maestro's push-time dry run (DryRunValidator): evaluates the workflow's params, then the params
 * of each top-level step over them, as a run started now would, with sample values for what only a
 * run has — instance and run id 1, signal params {@link DRY_RUN_SIGNAL_VALUE}, FROM_DATE/TO_DATE.
 * Returns the params that cannot evaluate, each naming the param and the error. What a push cannot
 * judge is left to the run: a step param that reads another step's params or outputs (or a loop's,
 * a subworkflow's, a signal dependency's), and a program that reaches a SEL limit.
 */
export async function dryRunParams(request: WorkflowRequest, opts: DryRunOptions): Promise<DefinitionIssue[]> {
  const w = request.workflow;
  const extension = dryRunExtension();
  const stepIds = new Set<string>();
  walkSteps(w.steps, (s) => void stepIds.add(s.id));
  // `<signal>__<param>`: a `__` reference naming no step reads a signal (ParamEvaluator's rule).
  const signalRef = (name: string): ParamValue | undefined => {
    const i = name.indexOf('__');
    return i > 0 && i + 2 < name.length && !stepIds.has(name.slice(0, i)) ? DRY_RUN_SIGNAL_VALUE : undefined;
  };

  const defaults = defaultWorkflowParams({
    workflowId: w.id,
    owner: request.properties?.owner,
    runTs: opts.now ?? Date.now(),
    firstTimeTriggerTimezone: w.timeTriggers.map((t) => ('timezone' in t ? t.timezone : undefined)).find((z) => z),
  });
  const base: EvaluatedParams = {};
  for (const [k, p] of Object.entries(defaults)) base[k] = { type: p.type, value: p.value };
  base.workflow_instance_id = { type: 'LONG', value: 1n };
  base.workflow_run_id = { type: 'LONG', value: 1n };
  base.RUN_POLICY = { type: 'STRING', value: 'START_FRESH_NEW_RUN' };
  const overrides: EvaluatedParams = {};
  for (const [k, v] of Object.entries(DRY_RUN_RUN_PARAMS)) if (w.params[k]?.type === 'STRING') overrides[k] = { type: 'STRING', value: v };

  let workflowParams: EvaluatedParams;
  try {
    const evaluated = await evaluateParams(opts.sel, {
      defs: w.params,
      base,
      overrides,
      host: { getFromStep: () => undefined, getFromInstance: (name) => base[name]?.value, extension },
      signalRef,
      // Validators are the run's business (BATON_PARAM_VALIDATORS); Maestro never checks them at push.
      validate: false,
    });
    workflowParams = { ...base, ...evaluated };
  } catch (e) {
    return reachedLimit(e) ? [] : [issue('workflow.params', w.params, e)];
  }

  const issues: DefinitionIssue[] = [];
  const done = new Map<string, EvaluatedParams>();
  for (const [i, step] of w.steps.entries()) {
    const defs: ParamDefMap = step.kind === 'foreach' || step.kind === 'while' ? { ...step.params, ...step.loopParams } : step.params;
    try {
      done.set(step.id, await stepParams(opts, step, defs, workflowParams, done, extension, signalRef, w.id));
    } catch (e) {
      if (!reachedLimit(e) && !readsRuntimeOnly(defs, w.steps)) issues.push(issue(`workflow.steps[${i}].params`, defs, e));
    }
  }
  return issues;
}

async function stepParams(
  opts: DryRunOptions,
  step: Step,
  defs: ParamDefMap,
  workflowParams: EvaluatedParams,
  done: ReadonlyMap<string, EvaluatedParams>,
  extension: ParamsHost['extension'],
  signalRef: (name: string) => ParamValue | undefined,
  workflowId: string,
): Promise<EvaluatedParams> {
  const reserved: EvaluatedParams = { workflow_run_id: { type: 'LONG', value: 1n } };
  const defaults = defaultStepParams({ workflowId, workflowInstanceId: 1, stepId: step.id, stepInstanceUuid: '00000000-0000-5000-8000-000000000000', stepAttemptId: 1, kind: step.kind });
  for (const [k, p] of Object.entries(defaults)) reserved[k] = { type: p.type, value: p.value };
  const getFromStep = (stepId: string, name: string): ParamValue | undefined => done.get(stepId)?.[name]?.value;
  return evaluateParams(opts.sel, {
    defs,
    base: { ...workflowParams, ...reserved },
    host: { getFromStep, getFromInstance: (name) => workflowParams[name]?.value, extension },
    crossStep: (name) => {
      for (let i = name.indexOf('__'); i > 0; i = name.indexOf('__', i + 1)) {
        const v = getFromStep(name.slice(0, i), name.slice(i + 2));
        if (v !== undefined) return v;
      }
      return undefined;
    },
    signalRef,
    selfId: step.id,
    validate: false,
  });
}

/**
 * `params.getFromSignal` answering every call with the sample value: which signals start a run is
 * known only when one does (a run no signal started fails then, naming the signal).
 */
function dryRunExtension(): ParamsHost['extension'] {
  return (name) => (name === SIGNAL_REFERENCE_EXTENSION ? () => DRY_RUN_SIGNAL_VALUE : undefined);
}

/** An error from a limit (wall clock, SEL steps or size, a full worker pool): the push cannot conclude. */
function reachedLimit(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 10; x = x.cause, depth++) {
    if (x instanceof SelWallClockError || x instanceof SelPoolFullError || (x as { kind?: unknown }).kind === 'limit') return true;
  }
  return false;
}

/** True when the params read something only a running workflow has (other steps, loops, dependencies). */
function readsRuntimeOnly(defs: ParamDefMap, steps: readonly Step[]): boolean {
  const text = paramTexts(defs);
  if (RUNTIME_ONLY.test(text)) return true;
  const ids: string[] = [];
  const collect = (list: readonly Step[]): void => {
    for (const s of list) {
      ids.push(s.id);
      if (s.kind === 'foreach' || s.kind === 'while') collect(s.steps);
    }
  };
  collect(steps);
  return ids.some((id) => text.includes(`${id}__`) || text.includes(`@${id}`));
}

function issue(path: string, defs: ParamDefMap, e: unknown): DefinitionIssue {
  const param = e instanceof ParamEvaluationError && Object.hasOwn(defs, e.param) ? e.param : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return { field: param ? `${path}.${param}` : path, message: `dry run: ${message}` };
}
