/**
 * Executions of a step as the outside world saw them: one per request the recorder received,
 * whichever attempt row or generation the engine filed it under. Times are epoch ms (fractional),
 * all read from one clock in the harness process, when its event loop saw the request, the answer
 * or the closed connection: a loaded harness sees each a little late, so an overlap shorter than
 * its event-loop lag could hide, while one from a lapsed lease (seconds) could not.
 */
export interface Execution {
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  /** The Baton process that sent the request ("baton-1 pid 4242"), or its connection when unknown. */
  executor: string;
  startMs: number;
  /** Answer sent, or the connection closed before it; null while still held. */
  endMs: number | null;
  /** The caller closed the connection before the answer (killed, or aborted its attempt). */
  dropped: boolean;
}

export interface ExecutionFindings {
  executions: number;
  /** Step instances (workflow, instance, run, step) executed at least once. */
  steps: number;
  /** Step instances executed more than once (a takeover or a re-delivered job ran them again). */
  reexecuted: number;
  dropped: number;
  /** Shortest time from an execution's end to the next start of the same step instance (null: none ran twice). */
  minGapMs: number | null;
  /** Two executions of one step instance whose intervals intersect. */
  overlaps: string[];
}

export function stepKey(e: Pick<Execution, 'workflowId' | 'instanceId' | 'runId' | 'stepId'>): string {
  return `${e.workflowId}/${e.instanceId}/${e.runId}/${e.stepId}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function describe(e: Execution): string {
  const end = e.endMs === null ? 'still open' : `${iso(e.endMs)}${e.dropped ? ' (connection dropped)' : ''}`;
  return `attempt ${e.attemptId} by ${e.executor} ${iso(e.startMs)}–${end}`;
}

/**
 * No two executions of one step instance overlap: sorted by start, each must begin at or after
 * the latest end of those before it. An execution still open counts as running for ever.
 */
export function checkExecutions(executions: readonly Execution[]): ExecutionFindings {
  const byStep = new Map<string, Execution[]>();
  for (const e of executions) {
    const k = stepKey(e);
    const list = byStep.get(k);
    if (list) list.push(e);
    else byStep.set(k, [e]);
  }
  const overlaps: string[] = [];
  let reexecuted = 0;
  let minGapMs: number | null = null;
  for (const [k, list] of byStep) {
    if (list.length < 2) continue;
    reexecuted++;
    list.sort((a, b) => a.startMs - b.startMs);
    let latest = list[0]!;
    for (const cur of list.slice(1)) {
      const latestEnd = latest.endMs ?? Infinity;
      if (cur.startMs < latestEnd) overlaps.push(`${k}: ${describe(cur)} began while ${describe(latest)} ran`);
      else minGapMs = Math.min(minGapMs ?? Infinity, cur.startMs - latestEnd);
      if ((cur.endMs ?? Infinity) > latestEnd) latest = cur;
    }
  }
  return { executions: executions.length, steps: byStep.size, reexecuted, dropped: executions.filter((e) => e.dropped).length, minGapMs, overlaps };
}
