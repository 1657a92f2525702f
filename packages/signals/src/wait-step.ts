import type { Queryable } from '@baton/engine-core';
import { attemptRef, type ResolvedDependency, type WaiterStatus } from './dependencies.js';
import { parseJson } from './json.js';
import { specSql } from './operators.js';
import type { ConsumedSignal } from './ports.js';
import type { StepAttemptRef } from './ports.js';
import { instanceColumns, rowToInstance, type InstanceRow } from './queries.js';
import {
  clampScan,
  closestMisses,
  matchParamsJson,
  paramMismatches,
  recentInstances,
  toRef,
  type ConditionExplanation,
  type ScanOptions,
  type SignalRef,
} from './wait-explain.js';

/**
 * How far below the scanned window a dependency's match is still looked for (a primary-key range
 * of at most this many instances of the name, tested in SQL): a dependency met long ago, while
 * another is still awaited, shows as met without reading the name's whole history.
 */
export const DEEP_MATCH_WINDOW = 10_000;

/** Why a step attempt waits in WAITING_FOR_SIGNALS: its signal dependencies, met and unmet. */
export interface StepWaitExplanation {
  workflow_id: string;
  workflow_instance_id: string;
  step_id: string;
  step_attempt_id: number;
  /** The gate's state (null: the attempt registered no signal dependencies). */
  waiter_status: WaiterStatus | null;
  waiting_since: Date | null;
  scan_limit: number;
  conditions: ConditionExplanation[];
}

interface WaiterRow {
  status: WaiterStatus;
  dependencies: string;
  matched: string | null;
  create_time: Date | string;
}

/**
 * Explains a step attempt's gate from its waiter (the dependencies as evaluated when the step
 * began to wait). Reads only, each read bounded: the newest `scanLimit` instances per dependency
 * name (primary key, backwards), plus one bounded range below them when none of those matched.
 */
export async function explainStepWait(q: Queryable, step: StepAttemptRef, opts: ScanOptions = {}): Promise<StepWaitExplanation> {
  const { scanLimit, closest } = clampScan(opts);
  const res = await q.query<WaiterRow>(
    'SELECT status, dependencies::text AS dependencies, matched::text AS matched, create_time FROM signal_step_waiters WHERE attempt_ref = $1',
    [attemptRef(step)],
  );
  const out: StepWaitExplanation = {
    workflow_id: step.workflowId,
    workflow_instance_id: step.workflowInstanceId.toString(),
    step_id: step.stepId,
    step_attempt_id: step.attempt,
    waiter_status: null,
    waiting_since: null,
    scan_limit: scanLimit,
    conditions: [],
  };
  const row = res.rows[0];
  if (!row) return out;
  out.waiter_status = row.status;
  out.waiting_since = new Date(row.create_time);
  const deps = parseJson(row.dependencies) as unknown as ResolvedDependency[];
  const matched = row.matched ? (parseJson(row.matched) as unknown as (ConsumedSignal | null)[]) : [];
  for (const [index, dep] of deps.entries()) {
    const recent = await recentInstances(q, dep.name, scanLimit);
    const recorded = matched[index];
    let by: SignalRef | null = recorded ? ((await instanceRef(q, recorded.name, recorded.seq_id)) ?? null) : null;
    by ??= recent.find((i) => paramMismatches(dep.matchParams, i.params).length === 0) ?? null;
    if (!by && recent.length === scanLimit) by = await olderMatch(q, dep, recent[recent.length - 1]!.seq_id);
    out.conditions.push({
      index,
      signal_name: dep.name,
      match_params: matchParamsJson(dep.matchParams),
      join_keys: [],
      expected_join: null,
      met: by !== null,
      matched_by: by,
      closest: by ? [] : closestMisses(recent, (i) => paramMismatches(dep.matchParams, i.params), closest),
      scanned: recent.length,
    });
  }
  return out;
}

async function instanceRef(q: Queryable, name: string, seq: number | bigint): Promise<SignalRef | undefined> {
  const res = await q.query<InstanceRow>(`SELECT ${instanceColumns()} FROM signal_instances WHERE name = $1 AND seq_id = $2`, [name, seq.toString()]);
  const row = res.rows[0];
  return row ? toRef(rowToInstance(row)) : undefined;
}

/** The newest instance below `below` (within DEEP_MATCH_WINDOW of it) that matches, tested in SQL. */
async function olderMatch(q: Queryable, dep: ResolvedDependency, below: number | bigint): Promise<SignalRef | null> {
  const args: unknown[] = [dep.name, below.toString(), (BigInt(below) - BigInt(DEEP_MATCH_WINDOW)).toString()];
  const pred = specSql(dep.matchParams, args);
  const res = await q.query<InstanceRow>(
    `SELECT ${instanceColumns()} FROM signal_instances WHERE name = $1 AND seq_id < $2::bigint AND seq_id >= $3::bigint AND ${pred} ORDER BY seq_id DESC LIMIT 1`,
    args,
  );
  const row = res.rows[0];
  return row ? toRef(rowToInstance(row)) : null;
}
