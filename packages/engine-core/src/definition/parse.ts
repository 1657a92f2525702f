import { MaestroReader, type ParseResult } from './from-json.js';
import { Issues } from './issues.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';
import type { JsonValue, WorkflowRequest } from './model.js';

export type { ParseResult } from './from-json.js';

/**
 * A Maestro create request `{properties, workflow, is_active}` (or a bare workflow object) →
 * model. Accepts JSON text or an already parsed value; reports every structural problem at once.
 * Semantic checks (graph, ids, SEL) are `validateWorkflow`'s job.
 */
export function parseWorkflowJson(input: string | JsonValue): ParseResult<WorkflowRequest> {
  let root: JsonValue;
  if (typeof input === 'string') {
    try {
      root = parseJsonText(input);
    } catch (e) {
      if (e instanceof JsonSyntaxError) {
        return { ok: false, errors: [{ field: '', message: `malformed JSON: ${e.message}`, line: e.line, column: e.column }] };
      }
      throw e;
    }
  } else root = input;
  const issues = new Issues();
  const request = new MaestroReader(issues).request(root);
  if (!issues.empty || !request) return { ok: false, errors: issues.list };
  return { ok: true, value: request };
}
