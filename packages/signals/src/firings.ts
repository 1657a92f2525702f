/**
 * A batch's firings once their joins are complete: conditions and dedupe keys decide which start a
 * run, then one statement records firings, consumptions and removed candidates, the runs start in
 * the same transaction, and TRIGGERED lineage is stored.
 */
import type { Queryable } from '@baton/engine-core';
import { stringifyJson } from './json.js';
import type { ConsumedSignal, StartRequest, StartResult, TriggerExpressions, WorkflowStarter } from './ports.js';
import type { FiringOutcome } from './stats.js';
import { subKey, type Subscription } from './subscriptions.js';

/** One trigger firing for one join key: the instances it consumes and what became of it. */
export interface Firing {
  sub: Subscription;
  joinKey: string;
  consumed: ConsumedSignal[];
  requestId: string;
  outcome: 'STARTED' | 'CONDITION_FALSE' | 'DEDUPED';
  dedupKey?: string;
}

/** Evaluates conditions and dedupe keys: CONDITION_FALSE and DEDUPED firings consume but start nothing. */
export async function decideFirings(tx: Queryable, expressions: TriggerExpressions, firings: Firing[]): Promise<void> {
  for (const f of firings) {
    const ctx = { workflowId: f.sub.workflowId, triggerId: f.sub.triggerId, signals: f.consumed };
    if (f.sub.condition && !(await expressions.condition(f.sub.condition, ctx))) f.outcome = 'CONDITION_FALSE';
    else if (f.sub.dedupExpr) f.dedupKey = await expressions.dedupKey(f.sub.dedupExpr, ctx);
  }
  const keyed = firings.filter((f) => f.outcome === 'STARTED' && f.dedupKey !== undefined);
  if (keyed.length === 0) return;
  const seen = await tx.query<{ workflow_id: string; trigger_id: string; dedup_key: string }>(
    `SELECT DISTINCT f.workflow_id, f.trigger_id, f.dedup_key FROM signal_trigger_firings f
     JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(w, t, d) ON f.workflow_id = k.w AND f.trigger_id = k.t AND f.dedup_key = k.d
     WHERE f.outcome = 'STARTED'`,
    [keyed.map((f) => f.sub.workflowId), keyed.map((f) => f.sub.triggerId), keyed.map((f) => f.dedupKey!)],
  );
  const taken = new Set(seen.rows.map((r) => `${subKey(r.workflow_id, r.trigger_id)}\u0000${r.dedup_key}`));
  for (const f of keyed) {
    const k = `${subKey(f.sub.workflowId, f.sub.triggerId)}\u0000${f.dedupKey}`;
    if (taken.has(k)) f.outcome = 'DEDUPED';
    else taken.add(k);
  }
}

/**
 * Records the firings (one statement: firing rows, consumption rows, candidates removed), starts
 * the runs in the same transaction, then stores the instance ids and TRIGGERED lineage.
 * Returns the outcomes of the firings recorded now (not those another matcher recorded first).
 */
export async function recordFirings(tx: Queryable, starter: WorkflowStarter, firings: Firing[]): Promise<FiringOutcome[]> {
  const cons = firings.flatMap((f) => f.consumed.map((c) => ({ f, c })));
  const ins = await tx.query<{ id: number | bigint; request_id: string }>(
    `WITH f AS (
       INSERT INTO signal_trigger_firings (workflow_id, trigger_id, request_id, join_key, signals, outcome, dedup_key)
       SELECT w, t, r, j, sig::jsonb, o, d FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(w, t, r, j, sig, o, d)
       ON CONFLICT (request_id) DO NOTHING RETURNING id, request_id
     ), c AS (
       INSERT INTO signal_trigger_consumptions (workflow_id, trigger_id, signal_name, seq_id, firing_id)
       SELECT u.w, u.t, u.n, u.s, f.id FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[]) AS u(r, w, t, n, s)
       JOIN f ON f.request_id = u.r
     ), d AS (
       DELETE FROM signal_trigger_candidates cand USING unnest($9::text[], $10::text[], $11::text[], $12::bigint[]) AS u(w, t, n, s)
       WHERE cand.workflow_id = u.w AND cand.trigger_id = u.t AND cand.signal_name = u.n AND cand.seq_id = u.s
     )
     SELECT id, request_id FROM f`,
    [
      firings.map((f) => f.sub.workflowId),
      firings.map((f) => f.sub.triggerId),
      firings.map((f) => f.requestId),
      firings.map((f) => f.joinKey),
      firings.map((f) => stringifyJson(f.consumed)),
      firings.map((f) => f.outcome),
      firings.map((f) => f.dedupKey ?? null),
      cons.map((x) => x.f.requestId),
      cons.map((x) => x.f.sub.workflowId),
      cons.map((x) => x.f.sub.triggerId),
      cons.map((x) => x.c.name),
      cons.map((x) => x.c.seq_id.toString()),
    ],
  );
  const ids = new Map(ins.rows.map((r) => [r.request_id, r.id]));
  const recorded = firings.filter((f) => ids.has(f.requestId)).map((f) => f.outcome);
  const toStart = firings.filter((f) => f.outcome === 'STARTED' && ids.has(f.requestId));
  if (toStart.length === 0) return recorded;
  const requests: StartRequest[] = toStart.map((f) => ({
    workflowId: f.sub.workflowId,
    version: f.sub.workflowVersion ?? 'active',
    params: f.sub.params,
    requestId: f.requestId,
    initiator: { type: 'SIGNAL', workflowId: f.sub.workflowId, triggerId: f.sub.triggerId, signals: f.consumed },
  }));
  let started: StartResult[];
  if (starter.startWorkflows) started = await starter.startWorkflows(tx, requests);
  else {
    started = [];
    for (const r of requests) started.push(await starter.startWorkflow(tx, r));
  }
  const edges = toStart.flatMap((f, i) => f.consumed.map((c) => ({ f, c, inst: started[i]!.workflowInstanceId.toString() })));
  await tx.query(
    `WITH u AS (
       UPDATE signal_trigger_firings f SET workflow_instance_id = x.inst FROM unnest($1::bigint[], $2::text[]) AS x(id, inst) WHERE f.id = x.id
     )
     INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id)
     SELECT 'TRIGGERED', n, s, w, i FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[]) AS x(n, s, w, i)
     ON CONFLICT DO NOTHING`,
    [
      toStart.map((f) => ids.get(f.requestId)!.toString()),
      started.map((s) => s.workflowInstanceId.toString()),
      edges.map((e) => e.c.name),
      edges.map((e) => e.c.seq_id.toString()),
      edges.map((e) => e.f.sub.workflowId),
      edges.map((e) => e.inst),
    ],
  );
  return recorded;
}
