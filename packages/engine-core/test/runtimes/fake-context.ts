import type { HttpResponseRecord, LogStream, StepRuntimeContext } from '../../src/runtime/step-runtime.js';

/** A StepRuntimeContext as the engine would pass it, recording timeline entries, output and Http responses. */
export function stepContext(overrides: Partial<StepRuntimeContext> = {}): StepRuntimeContext & {
  entries: string[];
  printed: Record<LogStream, string>;
  responses: HttpResponseRecord[];
} {
  const entries: string[] = [];
  const printed: Record<LogStream, string> = { stdout: '', stderr: '' };
  const responses: HttpResponseRecord[] = [];
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
    logs: {
      write: (stream, chunk) => {
        printed[stream] += chunk.toString('utf8');
      },
      flush: () => Promise.resolve(),
      recordHttpResponse: (r) => {
        responses.push(r);
        return Promise.resolve();
      },
    },
    ...overrides,
    entries,
    printed,
    responses,
  };
}
