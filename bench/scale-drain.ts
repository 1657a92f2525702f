/**
 * The backlog drain of bench/scale.bench.ts: a queued backlog of a one-NoOp PARALLEL workflow,
 * drained by one engine, with the rate measured as the backlog passes 100%, 50% and 10% left.
 */
import { Engine, type PgDb } from '@baton/engine-core';
import { parseWorkflowJson } from '../packages/engine-core/src/definition/parse.js';
import { InMemoryDefinitions } from '../packages/engine-core/src/runtime/definitions.js';
import { queueBacklog } from './scale-fill.js';

export const DRAIN_WORKFLOW = 'bench-drain';

export interface DrainOptions {
  instances: number;
  /** The workflow's PARALLEL workflow_concurrency. */
  workflowConcurrency: number;
  /** Queue jobs the engine runs at once. */
  engineConcurrency: number;
  /** Give up after this long (the figures then cover what drained). */
  timeoutSeconds: number;
}

export interface DrainWindow {
  /** Instances left (queued or running) when the window opened. */
  left: number;
  /** Instances that ended in the window, and its length. */
  ended: number;
  seconds: number;
  perSecond: number;
}

export interface DrainResult {
  instances: number;
  queueSeconds: number;
  totalSeconds: number;
  drained: number;
  overallPerSecond: number;
  /** At 100%, 50% and 10% of the backlog left (100k, 50k, 10k at the default size). */
  windows: DrainWindow[];
  failed: number;
}

/**
 * Queues the backlog, starts an engine and counts instance endings (the engine's own completion
 * events, so counting costs the database nothing). Each window spans 5% of the backlog (at least
 * 500 instances) starting where that much was left; the first starts after the first wave.
 */
export async function measureDrain(db: PgDb, opts: DrainOptions, say: (m: string) => void): Promise<DrainResult> {
  const parsed = parseWorkflowJson(
    JSON.stringify({
      properties: { run_strategy: { rule: 'parallel', workflow_concurrency: opts.workflowConcurrency } },
      workflow: { id: DRAIN_WORKFLOW, steps: [{ step: { id: 'work', type: 'NoOp' } }] },
    }),
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  const defs = new InMemoryDefinitions();
  defs.add(parsed.value);
  const q0 = performance.now();
  await queueBacklog(db, DRAIN_WORKFLOW, opts.instances);
  const queueSeconds = (performance.now() - q0) / 1000;
  say(`drain: ${opts.instances} instances queued in ${queueSeconds.toFixed(1)} s`);

  const engine = new Engine({ db, definitions: defs, concurrency: opts.engineConcurrency });
  const n = opts.instances;
  const span = Math.max(500, Math.round(n * 0.05));
  // The first window opens once the first wave (workflow_concurrency instances, begun together)
  // has ended, so it measures the steady drain at a full backlog rather than the ramp-up.
  const starts = [n - Math.min(opts.workflowConcurrency, Math.round(n / 20)), Math.round(n / 2), Math.round(n / 10)].filter((s) => s >= span);
  const marks = new Map<number, number>();
  let ended = 0;
  let failed = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  engine.events.on('instance.completed', (e: { workflowId: string; status: string }) => {
    if (e.workflowId !== DRAIN_WORKFLOW) return;
    ended++;
    if (e.status !== 'SUCCEEDED') failed++;
    const left = n - ended;
    for (const s of starts) {
      if (left === s) marks.set(s, performance.now());
      if (left === s - span) marks.set(s - span, performance.now());
    }
    if (ended % Math.max(1, Math.round(n / 10)) === 0) say(`drain: ${left} left`);
    if (ended === n) resolveDone();
  });
  const t0 = performance.now();
  marks.set(n, t0);
  await engine.start();
  const timer = new Promise<void>((r) => setTimeout(r, opts.timeoutSeconds * 1000).unref());
  await Promise.race([done, timer]);
  const totalSeconds = (performance.now() - t0) / 1000;
  await engine.stop();
  const windows: DrainWindow[] = starts.map((s) => {
    const a = marks.get(s);
    const b = marks.get(s - span);
    const seconds = a !== undefined && b !== undefined ? (b - a) / 1000 : NaN;
    return { left: s, ended: span, seconds, perSecond: span / seconds };
  });
  return { instances: n, queueSeconds, totalSeconds, drained: ended, overallPerSecond: ended / totalSeconds, windows, failed };
}
