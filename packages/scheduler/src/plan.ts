import { nextFireMs, prevFireMs, type CompiledTrigger } from './cron/trigger.js';

/** A fire time to start now, and whether it is a late start of a missed time. */
export interface PlannedFire {
  fireMs: number;
  catchUp: boolean;
}

export interface FirePlan {
  /** Ascending. */
  start: PlannedFire[];
  /** Due fire times the catch-up policy drops (counted; capped at `COUNT_CAP` + the started). */
  skipped: number;
  /** The latest fire time handled, or the previous watermark when nothing was due. */
  watermarkMs: number | null;
  /** The first fire time after those handled (null: never again). */
  nextFireMs: number | null;
}

// Enumerating missed fire times costs time; beyond this many the count of skipped ones is a floor.
const COUNT_CAP = 100_000;

/**
 * What to do with a trigger at `now`: every fire time F with F >= nextFire and F + jitter <= now is
 * due. A due time started within `graceMs` of F + jitter is on time and always starts; older ones
 * were missed (no process was running, or all were too busy) and follow the catch-up policy:
 * ALL starts the most recent `maxRuns` of them, LATEST starts the most recent one unless an
 * on-time start already covers it, NONE starts none.
 */
export function planFires(trigger: CompiledTrigger, jitterMs: number, nextFire: number, watermark: number | null, now: number, graceMs: number): FirePlan {
  const limit = now - jitterMs;
  if (nextFire > limit) return { start: [], skipped: 0, watermarkMs: watermark, nextFireMs: nextFire };

  // nextFire is itself a fire time; search from just before it.
  let due = nextFireMs(trigger, nextFire - 1, COUNT_CAP, limit);
  const total = due.length;
  if (total === COUNT_CAP) {
    // Far too many to list: only the newest matter to any policy (the skipped count is a floor).
    due = prevFireMs(trigger, limit + 1, trigger.catchUp.maxRuns, nextFire).reverse();
  }
  const latestDue = due[due.length - 1];
  if (latestDue === undefined) {
    // nextFire was not a fire time of this schedule (its definition changed): re-plan from there.
    const [again] = nextFireMs(trigger, nextFire - 1, 1);
    return { start: [], skipped: 0, watermarkMs: watermark, nextFireMs: again ?? null };
  }
  const onTimeFrom = limit - graceMs;
  const onTime = due.filter((f) => f >= onTimeFrom);
  const missed = due.filter((f) => f < onTimeFrom);
  let caughtUp: number[] = [];
  if (trigger.catchUp.policy === 'ALL') caughtUp = missed.slice(-trigger.catchUp.maxRuns);
  else if (trigger.catchUp.policy === 'LATEST' && onTime.length === 0) caughtUp = missed.slice(-1);
  const start = [...caughtUp.map((fireMs) => ({ fireMs, catchUp: true })), ...onTime.map((fireMs) => ({ fireMs, catchUp: false }))];
  const [after] = nextFireMs(trigger, latestDue, 1);
  return {
    start,
    skipped: total - start.length,
    watermarkMs: latestDue,
    nextFireMs: after ?? null,
  };
}
