import { MaestroReader, type ParseResult } from './from-json.js';
import { Issues } from './issues.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';
import type { JsonValue, WorkflowRequest } from './model.js';
import { validateWorkflow, type ValidateOptions } from './validate.js';
import { locateYamlIssues, parseWorkflowYaml } from './yaml-dsl.js';

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

export interface CheckOptions extends ValidateOptions {
  /** Default: YAML when the text's first meaningful character is not `{`. */
  format?: 'json' | 'yaml';
}

/**
 * Parse and validate in one call (what a "push" or "validate" endpoint needs): structural
 * problems first; when the definition reads, every semantic problem too.
 */
export function checkWorkflowDefinition(text: string, opts: CheckOptions = {}): ParseResult<WorkflowRequest> {
  const format = opts.format ?? (/^\s*\{/.test(text) ? 'json' : 'yaml');
  const parsed = format === 'json' ? parseWorkflowJson(text) : parseWorkflowYaml(text);
  if (!parsed.ok) return parsed;
  const errors = validateWorkflow(parsed.value, opts);
  if (errors.length === 0) return parsed;
  return { ok: false, errors: format === 'yaml' ? locateYamlIssues(text, errors) : errors };
}
