import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWorkflowJson } from '../../../packages/engine-core/src/definition/parse.js';
import type { WorkflowRequest } from '../../../packages/engine-core/src/definition/model.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function parse(text: string): WorkflowRequest {
  const parsed = parseWorkflowJson(text);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return parsed.value;
}

/** Sleep-heavy fan-out/fan-in with conditions; 5 s sleeps last 50 ms at the processes' time scale. */
export const CRASH_WF = {
  properties: { owner: 'tests', run_strategy: { rule: 'parallel', workflow_concurrency: 6 }, step_concurrency: 3 },
  workflow: {
    id: 'crash-wf',
    params: { n: { value: 3, type: 'LONG' } },
    steps: [
      { step: { id: 'a', type: 'Sleep', params: { sleep_seconds: { value: 10, type: 'LONG' } }, transition: { successors: { b1: 'true', b2: 'true', b3: 'n > 2', b4: 'n > 5' } } } },
      { step: { id: 'b1', type: 'Sleep', params: { sleep_seconds: { value: 30, type: 'LONG' } }, transition: { successors: { c: 'true' } } } },
      { step: { id: 'b2', type: 'Sleep', params: { sleep_seconds: { value: 20, type: 'LONG' } }, transition: { successors: { c: 'true' } } } },
      { step: { id: 'b3', type: 'Sleep', params: { sleep_seconds: { value: 40, type: 'LONG' } }, transition: { successors: { c: 'true' } } } },
      { step: { id: 'b4', type: 'Sleep', params: { sleep_seconds: { value: 5, type: 'LONG' } }, transition: { successors: { c: 'true' } } } },
      { step: { id: 'c', type: 'NoOp', transition: { successors: { d: 'true' } } } },
      { step: { id: 'd', type: 'Sleep', params: { sleep_seconds: { value: 15, type: 'LONG' } } } },
    ],
  },
};

export const CRASH_WF_STEPS: Record<string, string> = { a: 'SUCCEEDED', b1: 'SUCCEEDED', b2: 'SUCCEEDED', b3: 'SUCCEEDED', b4: 'UNSATISFIED', c: 'SUCCEEDED', d: 'SUCCEEDED' };

/** The crash-test workflow, plus two Maestro samples (sequential and parallel run strategies). */
export function crashWorkflows(): WorkflowRequest[] {
  const samples = path.resolve(repoRoot, '../shared/maestro-samples');
  return [
    parse(JSON.stringify(CRASH_WF)),
    parse(readFileSync(path.join(samples, 'sample-dag-test-1.json'), 'utf8')),
    parse(readFileSync(path.join(samples, 'sample-conditional-wf.json'), 'utf8')),
  ];
}
