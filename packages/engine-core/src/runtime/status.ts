/**
 * Step and workflow instance statuses (Maestro's names) and the transitions the engine makes.
 *
 * Step attempt lifecycle (each arrow is one guarded `UPDATE ... WHERE status = <from>`):
 *
 *   CREATED ──► INITIALIZED ──► WAITING_FOR_SIGNALS ──► EVALUATING_PARAMS ──► RUNNING ──► SUCCEEDED
 *   (ready,      (holds a         (a gate is closed;       (params and           (runtime    COMPLETED_WITH_ERROR
 *    no permit)   step_concurrency  reopened when it         gates pass)          called)    USER_FAILED / PLATFORM_FAILED
 *                 permit; job       opens)                                                   FATALLY_FAILED / INTERNALLY_FAILED
 *                 queued)                                                                    TIMED_OUT
 *   any non-terminal status ──► STOPPED (stop, LAST_ONLY, FAIL_IMMEDIATELY)
 *   UNSATISFIED / SKIPPED are written directly as terminal rows (no incoming edge was true).
 *   A step that never got a row is reported as NOT_CREATED.
 *
 * Workflow instance lifecycle: CREATED (queued by the run strategy) ──► IN_PROGRESS ──► SUCCEEDED
 * / FAILED / STOPPED / TIMED_OUT; CREATED ──► STOPPED (FIRST_ONLY / LAST_ONLY drop it).
 * Ranks only grow, so the timeline of a healthy engine is monotone; tests check exactly that.
 */
export const STEP_STATUSES = [
  'NOT_CREATED',
  'CREATED',
  'INITIALIZED',
  'PAUSED',
  'WAITING_FOR_SIGNALS',
  'EVALUATING_PARAMS',
  'WAITING_FOR_PERMITS',
  'STARTING',
  'RUNNING',
  'FINISHING',
  'UNSATISFIED',
  'SKIPPED',
  'SUCCEEDED',
  'COMPLETED_WITH_ERROR',
  'USER_FAILED',
  'PLATFORM_FAILED',
  'FATALLY_FAILED',
  'INTERNALLY_FAILED',
  'STOPPED',
  'TIMED_OUT',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const STEP_TERMINAL: ReadonlySet<StepStatus> = new Set<StepStatus>([
  'UNSATISFIED',
  'SKIPPED',
  'SUCCEEDED',
  'COMPLETED_WITH_ERROR',
  'USER_FAILED',
  'PLATFORM_FAILED',
  'FATALLY_FAILED',
  'INTERNALLY_FAILED',
  'STOPPED',
  'TIMED_OUT',
]);

/** Terminal statuses after which successors' conditions are evaluated. */
export const STEP_DONE_OK: ReadonlySet<StepStatus> = new Set<StepStatus>(['SUCCEEDED', 'COMPLETED_WITH_ERROR', 'SKIPPED']);

/** Terminal statuses that fail the instance. */
export const STEP_FAILED: ReadonlySet<StepStatus> = new Set<StepStatus>([
  'USER_FAILED',
  'PLATFORM_FAILED',
  'FATALLY_FAILED',
  'INTERNALLY_FAILED',
  'TIMED_OUT',
]);

/** Statuses that hold a step_concurrency permit. */
export const STEP_ACTIVE: ReadonlySet<StepStatus> = new Set<StepStatus>([
  'INITIALIZED',
  'PAUSED',
  'WAITING_FOR_SIGNALS',
  'EVALUATING_PARAMS',
  'WAITING_FOR_PERMITS',
  'STARTING',
  'RUNNING',
  'FINISHING',
]);

const STEP_RANK = new Map<string, number>(STEP_STATUSES.map((s, i) => [s, i]));

/** Position in the lifecycle: every terminal status outranks every non-terminal one. */
export function stepRank(status: string): number {
  if (STEP_TERMINAL.has(status as StepStatus)) return 100;
  return STEP_RANK.get(status) ?? -1;
}

export const INSTANCE_STATUSES = ['CREATED', 'IN_PROGRESS', 'PAUSED', 'TIMED_OUT', 'STOPPED', 'FAILED', 'SUCCEEDED'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const INSTANCE_TERMINAL: ReadonlySet<InstanceStatus> = new Set<InstanceStatus>(['TIMED_OUT', 'STOPPED', 'FAILED', 'SUCCEEDED']);

export function instanceRank(status: string): number {
  if (INSTANCE_TERMINAL.has(status as InstanceStatus)) return 100;
  return status === 'CREATED' ? 0 : status === 'IN_PROGRESS' || status === 'PAUSED' ? 1 : -1;
}
