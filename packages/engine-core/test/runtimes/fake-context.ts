import type { StepRuntimeContext } from '../../src/runtime/step-runtime.js';

/** A StepRuntimeContext as the engine would pass it, recording timeline entries. */
export function stepContext(overrides: Partial<StepRuntimeContext> = {}): StepRuntimeContext & { entries: string[] } {
  const entries: string[] = [];
  return {
    signal: new AbortController().signal,
    workflowId: 'wf',
    instanceId: 1,
    runId: 1,
    stepId: 'job.1',
    attemptId: 1,
    attemptPk: 1,
    stepType: 'Http',
    resumed: false,
    startedAt: new Date(),
    timeScale: 1,
    timeline: (message) => {
      entries.push(message);
      return Promise.resolve();
    },
    ...overrides,
    entries,
  };
}
