import type { EventEmitter } from 'node:events';
import type { InstanceStatus, StepStatus } from './status.js';
import type { InstanceCompletedEvent } from './context.js';
import { isInlineWorkflowId } from './inline-definitions.js';

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

export interface RunObservers {
  /** A run began (left CREATED, or a restart's new run): workflow id. */
  runStarted(workflowId: string): void;
  /** A run ended: workflow id and terminal status. */
  runEnded(workflowId: string, status: InstanceStatus): void;
  /** A step attempt that had started ended: its step type, terminal status and seconds since it started. */
  stepEnded(stepType: string, status: StepStatus, seconds: number): void;
}

/**
 * Calls the observers as runs start and end and step attempts end, each once the transaction that
 * recorded it has committed and only in the process that committed it: summed over every process
 * sharing a database, each transition counts exactly once. Loop iterations are not runs and are
 * left out (their steps are not). Returns a function that stops listening.
 */
export function observeRuns(engine: { events: EventEmitter }, observers: RunObservers): () => void {
  const onStarted = (workflowId: string): void => observers.runStarted(workflowId);
  const onCompleted = (e: InstanceCompletedEvent): void => {
    if (!isInlineWorkflowId(e.workflowId)) observers.runEnded(e.workflowId, e.status);
  };
  const onStepEnded = (stepType: string, status: StepStatus, seconds: number): void => observers.stepEnded(stepType, status, seconds);
  engine.events.on('run.started', onStarted);
  engine.events.on('instance.completed', onCompleted);
  engine.events.on('step.ended', onStepEnded);
  return () => {
    engine.events.off('run.started', onStarted);
    engine.events.off('instance.completed', onCompleted);
    engine.events.off('step.ended', onStepEnded);
  };
}
