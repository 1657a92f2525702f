import type { Queryable } from '@baton/engine-core';
import { stableJson } from './canonical.js';
import { parseJson, stringifyJson } from './json.js';
import { parseCondition, specSql, type MatchSpec } from './operators.js';
import type { ConsumedSignal, StepAttemptRef, StepGateListener } from './ports.js';
import { instanceColumns, rowToInstance, type InstanceRow } from './queries.js';
import { writeLineage } from './lineage-write.js';
import { nameProblem } from './validate.js';
import { MatchSpecError } from './operators.js';

/** A step signal dependency with its match values already evaluated (SEL) by the engine. */
export interface ResolvedDependency {
  name: string;
  matchParams: MatchSpec;
}

/**
 * Builds a dependency from evaluated values: `{param: {value, operator}}` (Maestro's
 * `match_params` after the engine evaluated each `param` definition).
 */
export function resolveDependency(name: string, matchParams: Record<string, { value: unknown; operator?: unknown }>, field = 'signal_dependencies'): ResolvedDependency {
  const problem = nameProblem(name);
  if (problem) throw new MatchSpecError(`${field}.name`, problem);
  const spec: MatchSpec = {};
  for (const [k, mp] of Object.entries(matchParams)) spec[k] = [parseCondition(mp.operator ?? '=', mp.value, `${field}.match_params.${k}`)];
  return { name, matchParams: spec };
}

export interface DependencyCheck {
  satisfied: boolean;
  /** Per dependency, the latest matching instance (null where none matched yet). */
  matched: (ConsumedSignal | null)[];
}

export function attemptRef(step: StepAttemptRef): string {
  return stableJson([step.workflowId, step.workflowInstanceId.toString(), step.stepId, step.attempt]);
}

/** Whether the history satisfies every dependency. Reads only: signals are not consumed. */
export async function checkDependencies(q: Queryable, deps: readonly ResolvedDependency[]): Promise<DependencyCheck> {
  const matched: (ConsumedSignal | null)[] = [];
  for (const dep of deps) {
    const args: unknown[] = [dep.name];
    const pred = specSql(dep.matchParams, args);
    const res = await q.query<InstanceRow>(`SELECT ${instanceColumns()} FROM signal_instances WHERE name = $1 AND ${pred} ORDER BY seq_id DESC LIMIT 1`, args);
    const row = res.rows[0];
    if (!row) matched.push(null);
    else {
      const i = rowToInstance(row);
      matched.push({ name: i.name, seq_id: i.seq_id, instance_id: i.instance_id, params: i.params });
    }
  }
  return { satisfied: matched.every((m) => m !== null), matched };
}

export type WaiterStatus = 'WAITING' | 'SATISFIED' | 'BYPASSED' | 'CANCELLED';

async function markOpened(tx: Queryable, step: StepAttemptRef, status: WaiterStatus, matched: (ConsumedSignal | null)[]): Promise<void> {
  await tx.query('UPDATE signal_step_waiters SET status = $2, matched = $3::jsonb, update_time = now() WHERE attempt_ref = $1', [attemptRef(step), status, stringifyJson(matched)]);
  await writeLineage(
    tx,
    matched
      .filter((m): m is ConsumedSignal => m !== null)
      .map((m) => ({ kind: 'UNBLOCKED' as const, signalName: m.name, seqId: m.seq_id, ...stepFields(step) })),
  );
}

function stepFields(step: StepAttemptRef) {
  return { workflowId: step.workflowId, workflowInstanceId: step.workflowInstanceId, stepId: step.stepId, attempt: step.attempt };
}

/**
 * Registers a step attempt's gate. When history already satisfies it the step is released at
 * once (status SATISFIED, UNBLOCKED lineage) and the matches are returned; otherwise the step
 * waits and a later signal wakes it. The names' counter rows are locked first so a signal being
 * published concurrently is either seen here or finds this waiter when it is matched.
 */
export async function registerWaiter(tx: Queryable, step: StepAttemptRef, deps: readonly ResolvedDependency[]): Promise<DependencyCheck> {
  const names = [...new Set(deps.map((d) => d.name))].sort();
  await tx.query(
    `INSERT INTO signal_names (name) SELECT n FROM unnest($1::text[]) AS n ORDER BY n
     ON CONFLICT (name) DO UPDATE SET last_seq = signal_names.last_seq`,
    [names],
  );
  const check = await checkDependencies(tx, deps);
  await tx.query(
    `INSERT INTO signal_step_waiters (attempt_ref, workflow_id, workflow_instance_id, step_id, attempt, dependencies, signal_names, status)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::text[], 'WAITING')
     ON CONFLICT (attempt_ref) DO NOTHING`,
    [attemptRef(step), step.workflowId, step.workflowInstanceId.toString(), step.stepId, step.attempt, stringifyJson(deps), names],
  );
  if (check.satisfied) await markOpened(tx, step, 'SATISFIED', check.matched);
  return check;
}

interface WaiterRow {
  attempt_ref: string;
  workflow_id: string;
  workflow_instance_id: string;
  step_id: string;
  attempt: number;
  dependencies: string;
}

/**
 * Wakes the waiting steps that newly indexed signals of `names` may satisfy. Runs in the
 * matcher's transaction; waiter rows are locked in key order so concurrent matchers cannot
 * deadlock and a step is released once.
 */
export async function wakeWaiters(
  tx: Queryable,
  names: readonly string[],
  gates: StepGateListener | undefined,
  onError: (err: unknown, what: string) => void,
  careful = true,
): Promise<number> {
  const res = await tx.query<WaiterRow>(
    `SELECT attempt_ref, workflow_id, workflow_instance_id, step_id, attempt, dependencies::text AS dependencies
     FROM signal_step_waiters WHERE status = 'WAITING' AND signal_names && $1::text[] ORDER BY attempt_ref FOR UPDATE`,
    [names],
  );
  let opened = 0;
  for (const w of res.rows) {
    const deps = parseJson(w.dependencies) as unknown as ResolvedDependency[];
    const check = await checkDependencies(tx, deps);
    if (!check.satisfied) continue;
    const step: StepAttemptRef = { workflowId: w.workflow_id, workflowInstanceId: w.workflow_instance_id, stepId: w.step_id, attempt: w.attempt };
    if (!careful) {
      await markOpened(tx, step, 'SATISFIED', check.matched);
      if (gates) await gates.gateOpened(tx, step, check.matched, 'SIGNALS');
      opened++;
      continue;
    }
    await tx.query('SAVEPOINT signal_gate');
    try {
      await markOpened(tx, step, 'SATISFIED', check.matched);
      if (gates) await gates.gateOpened(tx, step, check.matched, 'SIGNALS');
      await tx.query('RELEASE SAVEPOINT signal_gate');
      opened++;
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT signal_gate');
      onError(err, `opening the signal gate of ${w.attempt_ref}`);
    }
  }
  return opened;
}

/** Releases a waiting step by hand. Returns false when it was not waiting. */
export async function bypassWaiter(tx: Queryable, step: StepAttemptRef, gates: StepGateListener | undefined): Promise<boolean> {
  const res = await tx.query(`SELECT 1 FROM signal_step_waiters WHERE attempt_ref = $1 AND status = 'WAITING' FOR UPDATE`, [attemptRef(step)]);
  if (res.rows.length === 0) return false;
  await markOpened(tx, step, 'BYPASSED', []);
  if (gates) await gates.gateOpened(tx, step, [], 'BYPASS');
  return true;
}

/** Stops a step from waiting (the step was stopped or timed out). */
export async function cancelWaiter(tx: Queryable, step: StepAttemptRef): Promise<boolean> {
  const res = await tx.query(`UPDATE signal_step_waiters SET status = 'CANCELLED', update_time = now() WHERE attempt_ref = $1 AND status = 'WAITING'`, [attemptRef(step)]);
  return res.rowCount > 0;
}

export interface WaiterState {
  status: WaiterStatus;
  matched: (ConsumedSignal | null)[];
}

/** A step attempt's gate: its status and the signals that satisfied it (getFromSignalDependency). */
export async function getWaiter(q: Queryable, step: StepAttemptRef): Promise<WaiterState | undefined> {
  const res = await q.query<{ status: WaiterStatus; matched: string | null; dependencies: string }>(
    'SELECT status, matched::text AS matched, dependencies::text AS dependencies FROM signal_step_waiters WHERE attempt_ref = $1',
    [attemptRef(step)],
  );
  const row = res.rows[0];
  if (!row) return undefined;
  const deps = parseJson(row.dependencies) as unknown[];
  return { status: row.status, matched: row.matched ? (parseJson(row.matched) as unknown as (ConsumedSignal | null)[]) : deps.map(() => null) };
}
