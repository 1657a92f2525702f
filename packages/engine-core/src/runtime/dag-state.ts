import type { Dag } from './definitions.js';
import { STEP_DONE_OK, STEP_FAILED, STEP_TERMINAL, type InstanceStatus, type StepStatus } from './status.js';

export interface StepState {
  status: StepStatus;
  /** Evaluated outgoing conditions, once the step ended successfully. */
  edges?: Record<string, boolean> | null;
}

export interface Decision {
  /** Steps whose predecessors are all decided and at least one incoming edge is true. */
  ready: string[];
  /** Steps all of whose incoming edges are false: they will never run and propagate false. */
  unsatisfied: string[];
}

/**
 * Decides which steps without a row can now be created. A step with predecessors waits until each
 * of them is decided (ended well, or UNSATISFIED); it then runs when any incoming edge is true and
 * is UNSATISFIED otherwise. A failed or stopped predecessor decides nothing: its successors stay
 * NOT_CREATED. UNSATISFIED propagates within one call (fixed point).
 */
export function decide(dag: Dag, states: ReadonlyMap<string, StepState>): Decision {
  const known = new Map(states);
  const ready: string[] = [];
  const unsatisfied: string[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (const id of dag.order) {
      if (known.has(id)) continue;
      const preds = dag.predecessors.get(id)!;
      let decided = true;
      let anyTrue = false;
      for (const p of preds) {
        const st = known.get(p);
        if (!st) {
          decided = false;
          break;
        }
        if (STEP_DONE_OK.has(st.status)) {
          if (st.edges?.[id] === true) anyTrue = true;
        } else if (st.status !== 'UNSATISFIED') {
          decided = false;
          break;
        }
      }
      if (!decided) continue;
      if (preds.length === 0 || anyTrue) {
        ready.push(id);
        known.set(id, { status: 'CREATED' });
      } else {
        unsatisfied.push(id);
        known.set(id, { status: 'UNSATISFIED' });
        changed = true;
      }
    }
  }
  return { ready, unsatisfied };
}

/**
 * The instance's outcome once nothing is left to run, or undefined while work remains: FAILED if a
 * step failed, STOPPED if one was stopped, else SUCCEEDED.
 */
export function outcome(states: ReadonlyMap<string, StepState>, decision: Decision): InstanceStatus | undefined {
  if (decision.ready.length > 0) return undefined;
  let failed = false;
  let stopped = false;
  for (const st of states.values()) {
    if (!STEP_TERMINAL.has(st.status)) return undefined;
    if (STEP_FAILED.has(st.status)) failed = true;
    if (st.status === 'STOPPED') stopped = true;
  }
  return failed ? 'FAILED' : stopped ? 'STOPPED' : 'SUCCEEDED';
}
