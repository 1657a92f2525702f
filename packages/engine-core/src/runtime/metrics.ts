import type { EventEmitter } from 'node:events';

/** Ready steps remembered while waiting for their launch; beyond this the oldest are dropped. */
const MAX_PENDING = 10_000;

/**
 * Calls `observe` with each step's launch latency in seconds: from the moment its permit committed
 * ('step.ready') to its runtime being called ('step.launch'), both in this process. A step made
 * ready here but launched by another process never reports, and is forgotten once `MAX_PENDING`
 * newer steps wait. Returns a function that stops listening.
 */
export function observeStepLaunches(engine: { events: EventEmitter }, observe: (seconds: number) => void): () => void {
  const ready = new Map<number, number>();
  const onReady = (attemptPk: number, t: number): void => {
    ready.set(attemptPk, t);
    if (ready.size > MAX_PENDING) {
      const oldest = ready.keys().next();
      if (!oldest.done) ready.delete(oldest.value);
    }
  };
  const onLaunch = (attemptPk: number, t: number): void => {
    const at = ready.get(attemptPk);
    if (at === undefined) return;
    ready.delete(attemptPk);
    observe(Math.max(0, t - at) / 1000);
  };
  engine.events.on('step.ready', onReady);
  engine.events.on('step.launch', onLaunch);
  return () => {
    engine.events.off('step.ready', onReady);
    engine.events.off('step.launch', onLaunch);
    ready.clear();
  };
}
