/**
 * The match queue seen from outside one batch: how a batch takes its share of the claimed jobs,
 * how many rows to claim next, the backlog metric, and the deterministic request id of a firing.
 */
import type { Queryable } from '@baton/engine-core';
import type { ConsumedSignal } from './ports.js';

/** A queue row: the instances seq_id .. seq_to of one name. */
export interface ClaimedJob {
  generation: number | bigint;
  id: number | bigint;
  name: string;
  seq_id: number | bigint;
  seq_to: number | bigint;
  only_workflow_id: string | null;
  only_trigger_id: string | null;
  /** The partition key of the range's instances (text, exact), when known (migration 0370). */
  expire_at?: string | null;
}

/** What one batch takes of the claimed jobs. */
interface Take {
  /** Jobs taken whole: deleted. */
  done: string[];
  /** The job taken in part: its seq_id moves to `from`. */
  rest?: { id: string; from: string };
  /** Instance ranges to match, inclusive. */
  ranges: { n: string; a: string; b: string; e: string | null; w: string | null; t: string | null }[];
  signals: number;
}

/**
 * Takes claimed jobs in queue order until `budget` instances: whole jobs while they fit, then
 * the first part of the job that does not (the rest stays queued, in its place).
 */
export function takeSignals(jobs: readonly Omit<ClaimedJob, 'generation'>[], budget: number): Take {
  const take: Take = { done: [], ranges: [], signals: 0 };
  for (const j of jobs) {
    const left = BigInt(budget - take.signals);
    if (left <= 0n) break;
    const from = BigInt(j.seq_id);
    const to = BigInt(j.seq_to);
    const span = to - from + 1n;
    const range = { n: j.name, a: from.toString(), e: j.expire_at ?? null, w: j.only_workflow_id, t: j.only_trigger_id };
    if (span <= left) {
      take.done.push(String(j.id));
      take.ranges.push({ ...range, b: to.toString() });
      take.signals += Number(span);
    } else {
      take.rest = { id: String(j.id), from: (from + left).toString() };
      take.ranges.push({ ...range, b: (from + left - 1n).toString() });
      take.signals += Number(left);
    }
  }
  return take;
}

/**
 * Rows to claim next so that they hold about `budget` instances, from the rows claimed last. It
 * shrinks at once but at most doubles per batch: after a run of one-signal rows, the next claim
 * must not lock hundreds of rows that each hold a large range (mixed REST and Kafka traffic).
 */
export function nextClaimLimit(claimed: readonly Pick<ClaimedJob, 'seq_id' | 'seq_to'>[], budget: number, previous: number): number {
  let instances = 0;
  for (const j of claimed) instances += Number(BigInt(j.seq_to) - BigInt(j.seq_id)) + 1;
  const perRow = instances / claimed.length;
  return Math.max(1, Math.min(budget, previous * 2, Math.ceil(budget / perRow) + 1));
}

export interface MatchBacklog {
  /** Stored instances not yet evaluated against the triggers. */
  signals: number;
  /**
   * Age of the oldest published one (0 when none): how far the matchers are behind. Backfill jobs
   * count above but not here: their signals were old when queued.
   */
  oldestAgeSeconds: number;
}

/** What the matchers have yet to do: one statement, for metrics. */
export async function matchBacklog(q: Queryable): Promise<MatchBacklog> {
  const r = await q.query<{ signals: number | bigint; age: number | null }>(
    `SELECT (SELECT coalesce(sum(coalesce(seq_to, seq_id) - seq_id + 1), 0)::bigint FROM signal_match_queue) AS signals,
            (SELECT extract(epoch FROM now() - i.create_time)::float8
             FROM (SELECT name, seq_id FROM signal_match_queue WHERE only_trigger_id IS NULL ORDER BY id LIMIT 1) j
             JOIN signal_instances i ON i.name = j.name AND i.seq_id = j.seq_id) AS age`,
  );
  const row = r.rows[0]!;
  return { signals: Number(row.signals), oldestAgeSeconds: Math.max(0, row.age ?? 0) };
}

/** The start request id of a firing: the trigger and the consumed instances, nothing random. */
export function firingRequestId(workflowId: string, triggerId: string, consumed: readonly ConsumedSignal[]): string {
  return `signal-trigger:${workflowId}:${triggerId}:${consumed.map((c) => `${c.name}:${c.instance_id}`).join(',')}`;
}
