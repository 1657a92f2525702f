import { bulkStoreDefinitions, Engine, type Db, type Queryable, type StartWorkflowRequest } from '@baton/engine-core';
import type { StartRequest as SignalStartRequest, StartResult, WorkflowStarter as SignalWorkflowStarter } from '@baton/signals';
import { getFromSignal } from '@baton/signals';
import type { TimeStartRequest, WorkflowStarter as TimeWorkflowStarter } from '@baton/scheduler';
import { evaluateSel, stringArg } from './sel.js';

type AnyStartRequest = SignalStartRequest | TimeStartRequest;

/**
 * The engine's start behind the starter port of signals and the scheduler. Both call it inside
 * their own transaction (consuming signals or advancing a schedule must commit together with the
 * start), which is what `Engine.startWorkflowsInTx` is for: a whole matcher or scheduler batch is
 * a few statements in the caller's transaction, idempotent per request id, visible to workers at
 * commit (PostgreSQL's NOTIFY, else the workers' poll, wakes them).
 *
 * Given a database, the starter keeps an engine of its own for starting alone (it never runs
 * workers) that reads a batch's definitions from the store in one query (`bulkStoreDefinitions`)
 * and keeps numbered versions cached. Given the process's engine, it shares that engine's
 * definition source and cache (build it with `bulkStoreDefinitions` for the one-query reads).
 */
export function createWorkflowStarter(engineOrDb: Engine | Db): SignalWorkflowStarter & TimeWorkflowStarter {
  const engine = engineOrDb instanceof Engine ? engineOrDb : new Engine({ db: engineOrDb, definitions: bulkStoreDefinitions(engineOrDb) });
  const startMany = async (tx: Queryable, reqs: readonly AnyStartRequest[]): Promise<StartResult[]> => {
    const requests: StartWorkflowRequest[] = [];
    for (const req of reqs) requests.push(await toEngineRequest(req));
    const results = await engine.startWorkflowsInTx(tx, requests);
    return results.map((r) => ({ workflowInstanceId: r.workflowInstanceId, created: !r.duplicate }));
  };
  return {
    startWorkflow: async (tx: Queryable, req: AnyStartRequest) => (await startMany(tx, [req]))[0]!,
    startWorkflows: startMany,
  } as SignalWorkflowStarter & TimeWorkflowStarter;
}

async function toEngineRequest(req: AnyStartRequest): Promise<StartWorkflowRequest> {
  return {
    workflowId: req.workflowId,
    version: req.version,
    params: await runParams(req),
    requestId: req.requestId,
    initiator: jsonSafe(req.initiator) as Record<string, unknown>,
  };
}

interface TriggerParamDef {
  type?: string;
  value?: unknown;
  expression?: string;
}

/**
 * Time triggers hand plain values; signal triggers hand their `params` definitions, whose SEL
 * expressions see the consumed signals through `params.getFromSignal`.
 */
async function runParams(req: AnyStartRequest): Promise<Record<string, unknown>> {
  if (req.initiator.type !== 'SIGNAL') return req.params;
  const signals = req.initiator.signals;
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(req.params)) {
    const def = raw as TriggerParamDef;
    if (!def || typeof def !== 'object') {
      out[name] = raw;
      continue;
    }
    const value =
      def.expression !== undefined
        ? await evaluateSel(def.expression, {}, { getFromSignal: (args) => getFromSignal(signals, stringArg(args[0], 'signal name or param'), args[1] === undefined ? undefined : stringArg(args[1], 'param name')) })
        : def.value;
    out[name] = def.type ? { value, type: def.type } : value;
  }
  return out;
}

/** The engine stores initiators as JSON: 64-bit values become numbers when exact, else decimal strings. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(o, k, { value: jsonSafe(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return v;
}
