import type { Queryable } from '../db/db.js';
import type { JobSpec, Outbox } from '../queue/queue.js';
import { dispatchJob, type EngineContext } from './context.js';
import type { DefinitionSource, VersionSelector } from './definitions.js';
import { isInlineWorkflowId } from './inline-definitions.js';
import { isBulkSource, type VersionKey } from './start-definitions.js';
import { encodeParams } from './params.js';
import { prepareStart, startResult, type InstanceRow, type PreparedStart, type StartDefinition, type StartWorkflowRequest, type StartWorkflowResult } from './start.js';

export const JOB_DISPATCH_MANY = 'engine.dispatch-many';

/** Most workflow ids one fan-out job carries. */
const FAN_OUT_CHUNK = 1000;

export interface StartInTxOptions {
  /**
   * The outbox of the transaction `tx` belongs to, when the caller runs in `engine.queue.tx`:
   * the dispatch jobs then go through it and this process's workers wake at commit. Without one
   * the jobs are written with `tx` and PostgreSQL's NOTIFY at commit (else the workers' poll)
   * wakes the workers.
   */
  outbox?: Outbox;
}

interface Pending {
  prepared: PreparedStart;
  /** Index of the first request in the batch with the same workflow and request id. */
  first: number;
}

interface BatchRow extends InstanceRow {
  workflow_id: string;
  request_id: string;
  fresh: boolean;
}

/**
 * Starts many workflow runs inside the caller's transaction: they exist (and their dispatch jobs
 * are visible to workers) exactly when the caller commits, and vanish without a trace when it
 * rolls back. Results come in request order.
 *
 * Exactly once per (workflow, request id), like `startWorkflow`: a request id that already started
 * an instance, earlier or further up the same batch, returns that instance with `duplicate: true`.
 * Instance ids stay gap-free without savepoints: the batch first takes the counter rows of its
 * workflows (sorted, so concurrent batches cannot deadlock) reserving one id per request, then
 * looks for existing request ids in a fresh snapshot (a concurrent start of the same request id
 * committed before the lock was granted, so it is seen), inserts only the new ones and gives back
 * the ids of the duplicates. Run strategies apply as for a single start: instances are recorded
 * in CREATED and the workflow's dispatch job decides when they run.
 *
 * A refused request (unknown workflow or version, bad params) throws `StartError` before anything
 * is written; the caller's transaction is then the caller's to roll back or carry on.
 */
export async function startWorkflowsInTx(
  ctx: EngineContext,
  tx: Queryable,
  reqs: readonly StartWorkflowRequest[],
  opts: StartInTxOptions = {},
  source?: DefinitionSource,
): Promise<StartWorkflowResult[]> {
  if (!Array.isArray(reqs)) throw new TypeError('startWorkflowsInTx takes an array of start requests');
  if (reqs.length === 0) return [];
  const pending = await prepareAll(ctx, tx, reqs, source);

  const primaries = pending.filter((p, i) => p.first === i);
  const perWorkflow = new Map<string, number>();
  for (const p of primaries) perWorkflow.set(p.prepared.workflowId, (perWorkflow.get(p.prepared.workflowId) ?? 0) + 1);
  const workflows = [...perWorkflow.keys()].sort();

  // Reserve the ids: the counter rows stay locked until the caller commits, so starts of these
  // workflows serialise on them exactly as single starts do.
  const counters = await tx.query<{ workflow_id: string; last_instance_id: number | bigint }>(
    `INSERT INTO baton_workflow_state (workflow_id, last_instance_id)
     SELECT w, n FROM unnest($1::text[], $2::bigint[]) AS x(w, n) ORDER BY w
     ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + EXCLUDED.last_instance_id
     RETURNING workflow_id, last_instance_id`,
    [workflows, workflows.map((w) => perWorkflow.get(w)!)],
  );
  const base = new Map(counters.rows.map((r) => [r.workflow_id, Number(r.last_instance_id) - perWorkflow.get(r.workflow_id)!]));

  // One statement (a snapshot taken after the locks were granted): duplicates of committed starts,
  // the new instances numbered after the reserved base, their timeline entries, and the counters
  // put back where duplicates left reserved ids unused.
  const res = await tx.query<BatchRow>(
    `WITH req AS (
       SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         AS r(ord, wf, version, request_id, initiator, run_params, base)
     ), dup AS (
       SELECT r.ord, i.id, i.version, i.instance_id, i.run_id, i.status, i.workflow_id, i.request_id
         FROM req r JOIN baton_workflow_instances i ON i.workflow_id = r.wf AND i.request_id = r.request_id
     ), fresh AS (
       SELECT r.*, r.base + row_number() OVER (PARTITION BY r.wf ORDER BY r.ord) AS instance_id
         FROM req r WHERE NOT EXISTS (SELECT 1 FROM dup d WHERE d.ord = r.ord)
     ), ins AS (
       INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator, run_params)
       SELECT wf, version, instance_id, 1, 'CREATED', request_id, initiator::jsonb, run_params::jsonb FROM fresh ORDER BY ord
       ON CONFLICT (workflow_id, request_id) DO NOTHING
       RETURNING id, version, instance_id, run_id, status, workflow_id, request_id
     ), tl AS (
       INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message)
       SELECT id, NULL, 'CREATED', 'created by request ' || request_id FROM ins
     ), used AS (
       SELECT r.wf, min(r.base) + count(f.ord) AS top FROM req r LEFT JOIN fresh f ON f.ord = r.ord GROUP BY r.wf
     ), fix AS (
       UPDATE baton_workflow_state s SET last_instance_id = u.top FROM used u WHERE s.workflow_id = u.wf AND s.last_instance_id <> u.top
     )
     SELECT id, version, instance_id, run_id, status, workflow_id, request_id, true AS fresh FROM ins
     UNION ALL
     SELECT id, version, instance_id, run_id, status, workflow_id, request_id, false AS fresh FROM dup`,
    [
      primaries.map((_, i) => i),
      primaries.map((p) => p.prepared.workflowId),
      primaries.map((p) => p.prepared.def.version),
      primaries.map((p) => p.prepared.requestId),
      primaries.map((p) => JSON.stringify(p.prepared.initiator)),
      primaries.map((p) => encodeParams(p.prepared.runParams)),
      primaries.map((p) => base.get(p.prepared.workflowId)!),
    ],
  );
  const byKey = new Map<string, InstanceRow & { fresh: boolean }>();
  for (const r of res.rows) byKey.set(requestKey(r.workflow_id, r.request_id), r);
  // Only an instance with this request id written without taking the counter lock can be skipped
  // by the insert without showing up as a duplicate: look those up.
  const missing = primaries.filter((p) => !byKey.has(requestKey(p.prepared.workflowId, p.prepared.requestId)));
  for (const [key, row] of await findByRequests(tx, missing.map((p) => p.prepared))) byKey.set(key, { ...row, fresh: false });

  const started = new Set<string>();
  const results = pending.map((p, i): StartWorkflowResult => {
    const { workflowId, requestId } = p.prepared;
    const row = byKey.get(requestKey(workflowId, requestId));
    if (!row) throw new Error(`start of ${workflowId} with request id ${requestId} was neither inserted nor found`);
    const fresh = row.fresh && p.first === i;
    if (fresh) started.add(workflowId);
    return startResult(workflowId, requestId, row, !fresh);
  });
  await enqueueDispatch(ctx, tx, [...started].sort(), opts.outbox);
  return results;
}

/**
 * One definition lookup per (workflow, version selector), all in one query when the engine's
 * source answers many at once; then each request is checked in order.
 */
async function prepareAll(ctx: EngineContext, tx: Queryable, reqs: readonly StartWorkflowRequest[], source: DefinitionSource | undefined): Promise<Pending[]> {
  const defs = new Map<string, Promise<StartDefinition | undefined>>();
  const keyOf = (workflowId: string, version: VersionSelector) => `${workflowId}\u0000${String(version)}`;
  if (source && isBulkSource(source)) {
    const known = numberedVersions(ctx);
    const wanted = new Map<string, VersionKey>();
    for (const r of reqs) {
      // Loop bodies (inline workflow ids) and malformed requests take the single path.
      if (typeof r?.workflowId !== 'string' || isInlineWorkflowId(r.workflowId)) continue;
      const version = r.version ?? 'active';
      const key = keyOf(r.workflowId, version);
      const hit = known.get(key);
      if (hit) defs.set(key, Promise.resolve(hit));
      else wanted.set(key, { workflowId: r.workflowId, version });
    }
    const keys = [...wanted.values()];
    if (keys.length > 1) {
      const found = await source.getStartDefinitions(keys, tx);
      keys.forEach((k, i) => {
        const v = found[i];
        // Numbered versions never change: later batches reuse them (as the engine's cache does).
        if (v && typeof k.version === 'number') known.set(keyOf(k.workflowId, k.version), v);
        defs.set(keyOf(k.workflowId, k.version), Promise.resolve(v));
      });
    }
  }
  const versions = {
    get(workflowId: string, version: VersionSelector, q?: Queryable): Promise<StartDefinition | undefined> {
      const key = keyOf(workflowId, version);
      let hit = defs.get(key);
      if (!hit) {
        hit = ctx.versions.get(workflowId, version, q);
        defs.set(key, hit);
      }
      return hit;
    },
  };
  const firstOf = new Map<string, number>();
  const out: Pending[] = [];
  for (const req of reqs) {
    const prepared = await prepareStart({ ...ctx, versions }, req, tx);
    const key = requestKey(prepared.workflowId, prepared.requestId);
    const first = firstOf.get(key) ?? out.length;
    firstOf.set(key, first);
    out.push({ prepared, first });
  }
  return out;
}

const bulkLoaded = new WeakMap<EngineContext, Map<string, StartDefinition>>();

/** Numbered versions this engine read in bulk, by `workflow\0version`. */
function numberedVersions(ctx: EngineContext): Map<string, StartDefinition> {
  let m = bulkLoaded.get(ctx);
  if (!m) {
    m = new Map();
    bulkLoaded.set(ctx, m);
  }
  return m;
}

function requestKey(workflowId: string, requestId: string): string {
  return `${workflowId}\u0000${requestId}`;
}

async function findByRequests(tx: Queryable, reqs: readonly PreparedStart[]): Promise<Map<string, InstanceRow>> {
  if (reqs.length === 0) return new Map();
  const found = await tx.query<InstanceRow & { workflow_id: string; request_id: string }>(
    `SELECT i.id, i.version, i.instance_id, i.run_id, i.status, i.workflow_id, i.request_id
       FROM unnest($1::text[], $2::text[]) AS r(wf, request_id)
       JOIN baton_workflow_instances i ON i.workflow_id = r.wf AND i.request_id = r.request_id`,
    [reqs.map((r) => r.workflowId), reqs.map((r) => r.requestId)],
  );
  return new Map(found.rows.map((r) => [requestKey(r.workflow_id, r.request_id), r]));
}

/**
 * Wakes the run strategy of every workflow that got a new instance. Through an outbox that is one
 * statement; without one the caller's transaction writes one job per workflow only for a single
 * workflow, else fan-out jobs (one per thousand workflows) whose handler adds the dispatch jobs,
 * so a batch of thousands of workflows costs its transaction one or two inserts.
 */
async function enqueueDispatch(ctx: EngineContext, tx: Queryable, workflows: readonly string[], outbox: Outbox | undefined): Promise<void> {
  if (workflows.length === 0) return;
  if (outbox) return outbox.addMany(workflows.map((w) => dispatchJob(w)));
  if (workflows.length === 1) return ctx.queue.add(tx, dispatchJob(workflows[0]!));
  for (let i = 0; i < workflows.length; i += FAN_OUT_CHUNK) await ctx.queue.add(tx, dispatchManyJob(workflows.slice(i, i + FAN_OUT_CHUNK)));
}

export function dispatchManyJob(workflowIds: readonly string[]): JobSpec {
  return { kind: JOB_DISPATCH_MANY, payload: { workflowIds } };
}

/** The fan-out job's handler: one dispatch job per workflow, in one statement. */
export async function runDispatchMany(ctx: EngineContext, payload: Record<string, unknown>): Promise<void> {
  const ids = payload.workflowIds;
  if (!Array.isArray(ids) || ids.some((w) => typeof w !== 'string')) throw new Error('engine.dispatch-many needs workflowIds: string[]');
  await ctx.queue.tx((_tx, outbox) => outbox.addMany((ids as string[]).map(dispatchJob)));
}
