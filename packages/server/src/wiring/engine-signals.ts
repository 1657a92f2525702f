import { getVersion, interpolate, walkSteps } from '@baton/engine-core';
import type { Db, Engine, EvaluatedParams, ParamDef, ParamValue, Queryable, Step, StepGate, StepRef, WorkflowVersion } from '@baton/engine-core';
import {
  getFromSignal,
  getFromSignalDependency,
  getWaiter,
  loadFiringSignals,
  resolveDependency,
  type ConsumedSignal,
  type ResolvedDependency,
  type SignalParams,
  type SignalService,
  type StepAttemptRef,
  type StepGateListener,
  type StepOutput,
} from '@baton/signals';
import type { Logger } from '../logger.js';
import { enqueueOutbound, signalEventsOf, type SinkConfig } from './signals-sources.js';
import { attemptPk, instanceParams, instanceRequestId, latestAttemptId } from './engine-reads.js';
import { evaluateSel, stringArg } from './sel.js';

export interface SignalWiring {
  /** Given to the SignalService: a satisfied or bypassed dependency asks the engine to run the step. */
  gateListener: StepGateListener;
  /** Registers the gate, the completion hook and the SEL extensions once the service exists. */
  attach(signals: SignalService): void;
}

/** The signals' view of an engine step attempt. */
export function attemptOf(ref: Pick<StepRef, 'workflowId' | 'instanceId' | 'stepId' | 'attemptId'>): StepAttemptRef {
  return { workflowId: ref.workflowId, workflowInstanceId: ref.instanceId, stepId: ref.stepId, attempt: ref.attemptId };
}

/** A step of the version, also inside foreach/while bodies. */
function findStep(def: WorkflowVersion, stepId: string): Step | undefined {
  let found = def.workflow.steps.find((s) => s.id === stepId);
  if (!found) walkSteps(def.workflow.steps, (s) => void (found ??= s.id === stepId ? s : undefined));
  return found;
}

function stepsWithDependencies(def: WorkflowVersion): Step[] {
  const out: Step[] = [];
  walkSteps(def.workflow.steps, (s) => {
    if (s.signalDependencies.length > 0) out.push(s);
  });
  return out;
}

function plain(params: EvaluatedParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = v.value;
  return out;
}

/** A literal as given (`${name}` in a string replaced from `vars`), an expression evaluated over `vars`. */
async function paramValue(def: ParamDef, vars: Record<string, unknown>): Promise<unknown> {
  if (def.expression !== undefined) return await evaluateSel(def.expression, vars);
  if (typeof def.value !== 'string' || !def.value.includes('$')) return def.value;
  return interpolate(def.value, (ref) => (ref.stepId === undefined ? (vars[ref.name] as ParamValue | undefined) : undefined));
}

/**
 * Signals hold strings and 64-bit integers; other param types are sent as their text (booleans,
 * doubles) or JSON (arrays, maps) rather than failing the step's completion. Null (an unknown
 * name reads as null in SEL) is refused: the step fails naming the output and the param.
 */
function signalParam(v: unknown): unknown {
  if (v === null || v === undefined) throw new Error("evaluated to null (a signal output sees the step's params and outputs, not the workflow's)");
  if (typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : String(v);
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/**
 * Signal params are strings or 64-bit integers; stored signals read back from JSON give small
 * integers as numbers, which SEL would take for doubles. They are LONGs, as in Maestro.
 */
function asSignalLong(v: unknown): unknown {
  return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v;
}

/**
 * Plugs signals into the engine's ports:
 * - gate `signals`: a step with `signal_dependencies` registers a waiter (its match values
 *   evaluated over the run's workflow params) and waits in WAITING_FOR_SIGNALS until the history
 *   satisfies every dependency; the matcher then opens the gate and asks the engine to recheck;
 * - step completion hook: a SUCCEEDED step publishes its `signal_outputs` in the transaction that
 *   records the success (exactly once per attempt, EMITTED lineage), and hands them to the
 *   outbound sinks that want signal events;
 * - SEL `params.getFromSignal(...)` (the signals that triggered the run) and
 *   `params.getFromSignalDependency(index, param)` (what each dependency matched).
 */
export function wireSignalsIntoEngine(engine: Engine, db: Db, logger: Logger, sinks: readonly SinkConfig[] = []): SignalWiring {
  const signalSinks = sinks.filter((s) => s.events.includes('signal'));
  const gateListener: StepGateListener = {
    async gateOpened(tx, step) {
      const pk = await attemptPk(tx, step.workflowId, step.workflowInstanceId, step.stepId, step.attempt);
      if (pk === undefined) logger.warn({ step }, 'signal gate opened for a step attempt the engine does not know');
      else await engine.recheckStep(tx, pk);
    },
  };

  const versionOf = versionCache();
  const attach = (signals: SignalService): void => {
    const gate: StepGate = {
      async check(q, ref, def) {
        const step = findStep(def, ref.stepId);
        if (!step || step.signalDependencies.length === 0) return { open: true };
        const attempt = attemptOf(ref);
        const waiter = await getWaiter(q, attempt);
        if (waiter) {
          if (waiter.status === 'SATISFIED' || waiter.status === 'BYPASSED') return { open: true };
          return { open: false, reason: `signal dependencies ${waiting(step)}` };
        }
        const deps = await resolveDependencies(engine, ref, step);
        const check = await db.tx((tx) => signals.registerWaiter(tx, attempt, deps));
        return check.satisfied ? { open: true } : { open: false, reason: `signal dependencies ${waiting(step)}` };
      },
      // Only a step with signal dependencies ever waits here.
      mayClose: (def, stepId) => (findStep(def, stepId)?.signalDependencies.length ?? 0) > 0,
    };
    engine.registerGate('signals', gate);

    engine.onStepCompleted(async (tx, _outbox, event) => {
      const def = await versionOf(tx, event.workflowId, event.version);
      const step = def && findStep(def, event.stepId);
      if (!step) return;
      // A step ended while it still waited (skipped, stopped or killed by an action, or timed
      // out): its waiter goes, so a later signal records no UNBLOCKED lineage for it.
      if (event.status !== 'SUCCEEDED') {
        if (step.signalDependencies.length > 0) await signals.cancelWaiter(tx, attemptOf(event));
        return;
      }
      if (step.signalOutputs.length === 0) return;
      // As Maestro: names resolve in the step's params (and outputs) first, then the workflow's.
      const vars = { ...plain(await instanceParams(tx, event.instancePk)), ...plain(event.params), ...plain(event.outputs) };
      const outputs: StepOutput[] = [];
      for (const [i, o] of step.signalOutputs.entries()) {
        const params: Record<string, unknown> = {};
        for (const [name, p] of Object.entries(o.params)) {
          try {
            params[name] = signalParam(await paramValue(p, vars));
          } catch (err) {
            throw new Error(`signal_outputs[${i}] (${o.name}) param ${name}: ${(err as Error).message}`, { cause: err });
          }
        }
        outputs.push({ name: o.name, params, ...(o.payload !== undefined ? { payload: o.payload } : {}) });
      }
      const results = await signals.emitOutputs(tx, attemptOf(event), outputs);
      if (signalSinks.length > 0) await enqueueOutbound(tx, signalEventsOf(results, outputs as { params: SignalParams; payload?: unknown }[]), signalSinks);
    }, 'signal outputs');

    // A run that ended while a step still waited: the waiter goes, so a later signal neither
    // records UNBLOCKED lineage for it nor asks the engine to look at it again.
    engine.onInstanceCompleted(async (tx, _outbox, event) => {
      if (event.status === 'SUCCEEDED') return;
      const def = await versionOf(tx, event.workflowId, event.version);
      for (const step of def ? stepsWithDependencies(def) : []) {
        const attemptId = await latestAttemptId(tx, event.workflowId, event.instanceId, event.runId, step.id);
        if (attemptId !== undefined) await signals.cancelWaiter(tx, attemptOf({ ...event, stepId: step.id, attemptId }));
      }
    }, 'signal waiters');

    engine.registerSelExtension('getFromSignal', {
      async prepare(q, ctx) {
        const requestId = await instanceRequestId(q, ctx.workflowId, ctx.instanceId, ctx.runId);
        return (requestId ? await loadFiringSignals(q, requestId) : undefined) ?? [];
      },
      call(prepared, _ctx, ...args) {
        // Workflow params of a run no signal started are evaluated with nothing prepared.
        return asSignalLong(getFromSignal((prepared as ConsumedSignal[] | undefined) ?? [], stringArg(args[0], 'signal name or param'), args[1] === undefined ? undefined : stringArg(args[1], 'param name')));
      },
    });
    engine.registerSelExtension('getFromSignalDependency', {
      async prepare(q, ctx) {
        if (!ctx.stepId) return [];
        const attempt = await latestAttemptId(q, ctx.workflowId, ctx.instanceId, ctx.runId, ctx.stepId);
        if (attempt === undefined) return [];
        return (await getWaiter(q, { workflowId: ctx.workflowId, workflowInstanceId: ctx.instanceId, stepId: ctx.stepId, attempt }))?.matched ?? [];
      },
      call(prepared, _ctx, ...args) {
        const index = args[0];
        return asSignalLong(getFromSignalDependency((prepared as (ConsumedSignal | null)[] | undefined) ?? [], typeof index === 'bigint' ? Number(index) : (index as string), stringArg(args[1], 'param name')));
      },
    });
  };

  return { gateListener, attach };
}

function waiting(step: Step): string {
  return step.signalDependencies.map((d) => d.name).join(', ');
}

/** Evaluates each dependency's match values over the run's workflow params (TARGET_RUN_DATE...). */
async function resolveDependencies(engine: Engine, ref: StepRef, step: Step): Promise<ResolvedDependency[]> {
  const run = await engine.getRun(ref.workflowId, ref.instanceId, ref.runId);
  const vars = run ? plain(run.params) : {};
  const out: ResolvedDependency[] = [];
  for (const [i, d] of step.signalDependencies.entries()) {
    const match: Record<string, { value: unknown; operator: string }> = {};
    for (const [param, mp] of Object.entries(d.matchParams)) {
      try {
        match[param] = { value: await paramValue(mp.param, vars), operator: mp.operator };
      } catch (err) {
        throw new Error(`signal_dependencies[${i}].match_params.${param}: ${(err as Error).message}`, { cause: err });
      }
    }
    out.push(resolveDependency(d.name, match, `signal_dependencies[${i}]`));
  }
  return out;
}

/** Numbered versions never change, so their definitions are kept (bounded) once read. */
function versionCache(): (q: Queryable, workflowId: string, version: number) => Promise<WorkflowVersion | undefined> {
  const cache = new Map<string, WorkflowVersion>();
  return async (q, workflowId, version) => {
    const key = `${workflowId}@${version}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const v = await getVersion(q, workflowId, version);
    if (!v) return undefined;
    if (cache.size >= 1000) cache.delete(cache.keys().next().value!);
    cache.set(key, v);
    return v;
  };
}
