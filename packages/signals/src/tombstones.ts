import { runTombstones, type Queryable } from '@baton/engine-core';

/** What is left of a purged signal instance that lineage points to. */
export interface SignalTombstone {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  /** When the instance was published and when retention purged it (epoch ms). */
  create_time: number;
  purged_at: number;
}

/** The tombstones of the given instances that were purged (absent ones are still stored, or never were). */
export async function signalTombstones(q: Queryable, signals: readonly { name: string; seq: string }[]): Promise<SignalTombstone[]> {
  if (signals.length === 0) return [];
  const res = await q.query<{ name: string; seq_id: number | bigint; instance_id: string; create_ms: number | string; purged_ms: number | string }>(
    `SELECT t.name, t.seq_id, t.instance_id, (extract(epoch FROM t.create_time) * 1000)::bigint AS create_ms,
            (extract(epoch FROM t.purged_at) * 1000)::bigint AS purged_ms
     FROM signal_tombstones t JOIN unnest($1::text[], $2::bigint[]) AS k(n, s) ON t.name = k.n AND t.seq_id = k.s`,
    [signals.map((s) => s.name), signals.map((s) => s.seq)],
  );
  return res.rows.map((r) => ({ name: r.name, seq_id: r.seq_id, instance_id: r.instance_id, create_time: Number(r.create_ms), purged_at: Number(r.purged_ms) }));
}

/** Adds `purged` (the tombstone) to the signal nodes of a lineage graph whose instance was purged. */
export async function markPurged(q: Queryable, nodes: { type: string; name?: string; seq_id?: number | bigint; purged?: unknown }[]): Promise<void> {
  const signals = nodes.filter((n) => n.type === 'signal' && n.name !== undefined && n.seq_id !== undefined);
  const found = await signalTombstones(
    q,
    signals.map((n) => ({ name: n.name!, seq: n.seq_id!.toString() })),
  );
  const byKey = new Map(found.map((t) => [`${t.name}#${t.seq_id}`, t]));
  for (const n of signals) {
    const t = byKey.get(`${n.name}#${n.seq_id}`);
    if (t) n.purged = { instance_id: t.instance_id, create_time: t.create_time, purged_at: t.purged_at } satisfies PurgedMark;
  }
}

/** On a lineage signal node whose instance retention purged: what the tombstone keeps. */
export interface PurgedMark {
  instance_id: string;
  create_time: number;
  purged_at: number;
}

/** On a lineage workflow node (or step attempt node) whose run retention purged: its tombstone. */
export interface RunPurgedMark {
  /** Runs of the restart chain that were purged; the last one's id and status. */
  runs: number;
  last_run_id: number;
  status: string;
  /** Epoch ms, like a signal's mark; end_time null when unknown. */
  create_time: number;
  end_time: number | null;
  purged_at: number;
}

/** Adds `purged` to the workflow instance and step attempt nodes whose run was purged by run retention. */
export async function markPurgedRuns(q: Queryable, nodes: { type: string; workflow_id?: string; workflow_instance_id?: string; purged?: unknown }[]): Promise<void> {
  const runs = nodes.filter((n) => (n.type === 'workflow_instance' || n.type === 'step_attempt') && n.workflow_id !== undefined && n.workflow_instance_id !== undefined);
  if (runs.length === 0) return;
  const found = await runTombstones(
    q,
    runs.map((n) => ({ workflowId: n.workflow_id!, instanceId: n.workflow_instance_id! })),
  );
  const byKey = new Map(found.map((t) => [`${t.workflowId}#${t.instanceId}`, t]));
  for (const n of runs) {
    const t = byKey.get(`${n.workflow_id}#${n.workflow_instance_id}`);
    if (t) {
      const mark: RunPurgedMark = {
        runs: t.runs,
        last_run_id: t.lastRunId,
        status: t.status,
        create_time: Date.parse(t.createdAt),
        end_time: t.endedAt === null ? null : Date.parse(t.endedAt),
        purged_at: Date.parse(t.purgedAt),
      };
      n.purged = mark;
    }
  }
}
