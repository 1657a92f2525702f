import { Engine, storeDefinitions, type Db, type Queryable } from '@baton/engine-core';
import type { StartRequest as SignalStartRequest, StartResult, WorkflowStarter as SignalWorkflowStarter } from '@baton/signals';
import { getFromSignal } from '@baton/signals';
import type { TimeStartRequest, WorkflowStarter as TimeWorkflowStarter } from '@baton/scheduler';
import { evaluateSel, stringArg } from './sel.js';

type AnyStartRequest = SignalStartRequest | TimeStartRequest;

/**
 * The engine's start behind the starter port of signals and the scheduler. Both call it inside
 * their own transaction (consuming signals or advancing a schedule must commit together with the
 * start), while `Engine.startWorkflow` opens a transaction of its own. So each start runs an
 * engine bound to the caller's transaction, with the engine's inner transaction as a savepoint:
 * its duplicate-request rollback stays exactly as the engine intends, and everything commits or
 * rolls back with the caller. (On PGlite, a single connection, a second transaction would wait
 * for the caller's forever.)
 */
export function createWorkflowStarter(db: Db): SignalWorkflowStarter & TimeWorkflowStarter {
  const start = async (tx: Queryable, req: AnyStartRequest): Promise<StartResult> => {
    const bound = transactionBoundDb(db, tx);
    const engine = new Engine({ db: bound, definitions: storeDefinitions(bound) });
    const res = await engine.startWorkflow({
      workflowId: req.workflowId,
      version: req.version,
      params: runParams(req),
      requestId: req.requestId,
      initiator: jsonSafe(req.initiator) as Record<string, unknown>,
    });
    return { workflowInstanceId: res.workflowInstanceId, created: !res.duplicate };
  };
  return {
    startWorkflow: (tx: Queryable, req: AnyStartRequest) => start(tx, req),
    async startWorkflows(tx: Queryable, reqs: readonly AnyStartRequest[]) {
      const out: StartResult[] = [];
      for (const r of reqs) out.push(await start(tx, r));
      return out;
    },
  } as SignalWorkflowStarter & TimeWorkflowStarter;
}

/** A `Db` whose queries run in `tx` and whose transactions are savepoints inside it. */
export function transactionBoundDb(outer: Db, tx: Queryable): Db {
  let depth = 0;
  return {
    kind: outer.kind,
    query: (sql, params) => tx.query(sql, params),
    exec: () => Promise.reject(new Error('scripts cannot run inside a start transaction')),
    async tx(fn) {
      const savepoint = `baton_start_${++depth}`;
      await tx.query(`SAVEPOINT ${savepoint}`);
      try {
        const result = await fn(tx);
        await tx.query(`RELEASE SAVEPOINT ${savepoint}`);
        return result;
      } catch (err) {
        await tx.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        throw err;
      } finally {
        depth--;
      }
    },
    close: () => Promise.resolve(),
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
function runParams(req: AnyStartRequest): Record<string, unknown> {
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
        ? evaluateSel(def.expression, {}, { getFromSignal: (args) => getFromSignal(signals, stringArg(args[0], 'signal name or param'), args[1] === undefined ? undefined : stringArg(args[1], 'param name')) })
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
