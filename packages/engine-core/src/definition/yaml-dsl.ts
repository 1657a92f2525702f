import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { MaestroReader, type ParseResult } from './from-json.js';
import { Issues, type DefinitionIssue } from './issues.js';
import type { JsonObject, JsonValue, WorkflowRequest } from './model.js';
import { defineEntry } from '../params/typed-value.js';
import { DslRewriter, type DslOptions } from './yaml-dsl-rewrite.js';
import { FIRST_ENTRY, locateSegments } from './yaml-dsl-where.js';

/**
 * Maestro's YAML DSL (the `maestro-dsl` module) → model. The document is rewritten into
 * Maestro's JSON create request (`yaml-dsl-rewrite.ts`: `Workflow:`/`workflow:`, jobs, typed
 * params, transitions, `dag:`, loops, subworkflows) and read by the same reader as JSON, so both
 * forms obey one set of rules. Every problem is reported with its field and, where it points
 * into the document, its line and column.
 */

export interface YamlParseOptions extends DslOptions {
  /** Most aliases expanded (billion-laughs guard). Default 100. */
  maxAliasCount?: number;
}

/** Deepest nesting of maps and lists a definition may have. */
export const MAX_YAML_DEPTH = 200;

class YamlShapeError extends Error {}

/**
 * Plain JSON from YAML. Integers stay bigint (so a DSL literal `1` is a LONG and `1.0` a
 * DOUBLE); `demote` turns the safe ones into numbers once the DSL is rewritten. Refuses an alias
 * to a node that contains it (`a: &a [*a]` is a structure without end) and nesting beyond
 * MAX_YAML_DEPTH.
 */
function normalize(v: unknown, path = '', ancestors: unknown[] = []): JsonValue {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) {
    const where = path || 'the document';
    if (ancestors.includes(v)) throw new YamlShapeError(`${where}: an alias refers to a node that contains it (the structure would never end)`);
    if (ancestors.length >= MAX_YAML_DEPTH) throw new YamlShapeError(`${where}: nested deeper than ${MAX_YAML_DEPTH} levels`);
    ancestors.push(v);
    try {
      if (Array.isArray(v)) return v.map((x, i) => normalize(x, `${path}[${i}]`, ancestors));
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) defineEntry(out, k, normalize(x, path ? `${path}.${k}` : k, ancestors));
      return out;
    } finally {
      ancestors.pop();
    }
  }
  if (v === undefined) return null;
  return v as JsonValue;
}

/** bigint → number where no digit is lost (as the JSON reader reads numbers). */
function demote(v: JsonValue): JsonValue {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(demote);
  if (typeof v === 'object' && v !== null) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) defineEntry(out, k, demote(x));
    return out;
  }
  return v;
}

/**
 * Source position of what a model path like `workflow.steps[2].steps[0].timeout` or
 * `properties.run_strategy` is about: steps are the jobs of the DSL, properties are keys of the
 * workflow; a field the document does not spell the same way points at its job (or workflow).
 */
function locate(doc: Document, lc: LineCounter, field: string): { line: number; column: number } | undefined {
  const root = doc.contents;
  const m = /^(workflow|properties)((?:\.|\[|$)[\s\S]*)$/.exec(field);
  if (!isMap(root) || !m) return undefined;
  const segments: (string | number | typeof FIRST_ENTRY)[] = [root.has('Workflow') ? 'Workflow' : 'workflow'];
  let rest = m[2] as string;
  for (let step = /^\.steps\[(\d+)\]/.exec(rest); step; step = /^\.steps\[(\d+)\]/.exec(rest)) {
    segments.push('jobs', Number(step[1]), FIRST_ENTRY);
    rest = rest.slice(step[0].length);
  }
  for (const t of rest.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) segments.push(t[1] ?? Number(t[2]));
  return locateSegments(doc, lc, segments);
}

/** Parses Maestro's YAML DSL. Syntax errors carry line and column; every problem is reported. */
export function parseWorkflowYaml(text: string, opts: YamlParseOptions = {}): ParseResult<WorkflowRequest> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, intAsBigInt: true, uniqueKeys: true, prettyErrors: true, schema: 'core', merge: false });
  const errors: DefinitionIssue[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    // Pretty messages end with a source excerpt; the first line carries the reason and position.
    const message = `malformed YAML: ${e.message.split('\n')[0] ?? e.message}`;
    errors.push(pos ? { field: '', message, line: pos.line, column: pos.col } : { field: '', message });
  }
  if (errors.length > 0) return { ok: false, errors };
  let plain: unknown;
  try {
    plain = doc.toJS({ maxAliasCount: opts.maxAliasCount ?? 100 });
  } catch (e) {
    return { ok: false, errors: [{ field: '', message: `YAML rejected: ${(e as Error).message}` }] };
  }
  let normalized: JsonValue;
  try {
    normalized = normalize(plain);
  } catch (e) {
    if (!(e instanceof YamlShapeError)) throw e;
    const [field, message] = splitField(e.message);
    return { ok: false, errors: [{ field, message: `YAML rejected: ${message}` }] };
  }
  const issues = new Issues();
  const rewriter = new DslRewriter(issues, opts);
  const json = rewriter.request(normalized);
  const request = issues.empty ? new MaestroReader(issues, { allowUntypedExpressions: true }).request(demote(json)) : undefined;
  if (!issues.empty || !request) {
    return {
      ok: false,
      errors: issues.list.map((i) => {
        if (i.line !== undefined) return i;
        const segments = rewriter.places.get(i.field);
        const pos = segments ? locateSegments(doc, lineCounter, segments) : locate(doc, lineCounter, i.field);
        return pos ? { ...i, line: pos.line, column: pos.column } : i;
      }),
    };
  }
  return { ok: true, value: request };
}

function splitField(text: string): [string, string] {
  const i = text.indexOf(': ');
  const field = text.slice(0, i);
  return [field === 'the document' ? '' : field, text.slice(i + 2)];
}

/**
 * Line and column (of the job) for issues found later about a YAML definition, e.g. by
 * `validateWorkflow`; issues that already have a position are kept as they are.
 */
export function locateYamlIssues(text: string, issues: readonly DefinitionIssue[]): DefinitionIssue[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, intAsBigInt: true, schema: 'core', merge: false });
  return issues.map((i) => {
    if (i.line !== undefined) return i;
    const pos = locate(doc, lineCounter, i.field);
    return pos ? { ...i, line: pos.line, column: pos.column } : i;
  });
}
