import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWorkflowJson } from '../../../src/definition/parse.js';
import type { WorkflowRequest } from '../../../src/definition/model.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const samplesDir = path.resolve(repoRoot, '../shared/maestro-samples');

/** Parses one of Maestro's sample workflows (read-only reference data outside the repo). */
export function loadSample(name: string): WorkflowRequest {
  const parsed = parseWorkflowJson(readFileSync(path.join(samplesDir, `${name}.json`), 'utf8'));
  if (!parsed.ok) throw new Error(`${name}: ${parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return parsed.value;
}
