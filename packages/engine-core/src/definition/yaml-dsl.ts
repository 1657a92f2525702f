import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { isObject, MaestroReader, type ParseResult } from './from-json.js';
import { fieldPath, Issues, type DefinitionIssue } from './issues.js';
import type { JsonObject, JsonValue, WorkflowRequest } from './model.js';
import { defineEntry, inferParamType, parseParamType } from '../params/typed-value.js';

/**
 * Maestro's YAML DSL → model. The DSL is rewritten into the JSON request shape and read by the
 * same reader as JSON, so both forms obey one set of rules:
 * - `Workflow:` holds the workflow; `owner`, `run_strategy`, `step_concurrency`, `*_disabled` are
 *   properties; any key the DSL does not know is a workflow param.
 * - `jobs:` is a list of `{job: {...}}` (also `foreach`, `while`, `subworkflow`, whose inner steps
 *   are `jobs:` again); a job's unknown keys are its params.
 * - Param keys: `name: literal` (type inferred), `'name<type>': literal` (type hint, `pmap` = a MAP
 *   of nested params), `'!name': SEL` (an expression), `'!name<type>': SEL`.
 * - `transition:` lists `job.2`, `IF <SEL> THEN job.4` and `OTHERWISE job.6` (taken when no IF of
 *   that list holds); `dag: sequential` chains jobs without a transition in list order.
 */

export interface YamlParseOptions {
  /** Most aliases expanded (billion-laughs guard). Default 100. */
  maxAliasCount?: number;
}

const PROPERTY_KEYS = ['owner', 'run_strategy', 'step_concurrency', 'signal_trigger_disabled', 'time_trigger_disabled'];
const WORKFLOW_KEYS = ['id', 'name', 'description', 'tags', 'timeout', 'time_triggers', 'signal_triggers', 'jobs', 'dag', 'params', 'is_active', ...PROPERTY_KEYS];
const JOB_KINDS: Record<string, string> = { job: 'step', step: 'step', foreach: 'foreach', while: 'while', subworkflow: 'subworkflow' };
const JOB_KEYS = [
  'id', 'name', 'description', 'type', 'sub_type', 'tags', 'transition', 'failure_mode', 'timeout', 'retry_policy',
  'signal_dependencies', 'signal_outputs', 'sync', 'explicit_params', 'concurrency', 'strict_ordering', 'condition', 'jobs', 'dag', 'params',
];

const HINTS: Record<string, string> = {
  int: 'LONG', integer: 'LONG', float: 'DOUBLE', bool: 'BOOLEAN', str: 'STRING', map: 'STRING_MAP', pmap: 'MAP',
  'string[]': 'STRING_ARRAY', 'long[]': 'LONG_ARRAY', 'int[]': 'LONG_ARRAY', 'double[]': 'DOUBLE_ARRAY', 'boolean[]': 'BOOLEAN_ARRAY',
};

/** Deepest nesting of maps and lists a definition may have. */
export const MAX_YAML_DEPTH = 200;

class YamlShapeError extends Error {}

/**
 * Numbers from YAML: bigint only where a number would lose digits. Refuses an alias to a node
 * that contains it (`a: &a [*a]` is a structure without end) and nesting beyond MAX_YAML_DEPTH.
 */
function normalize(v: unknown, path = '', ancestors: unknown[] = []): JsonValue {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
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

class YamlRewriter {
  constructor(private readonly issues: Issues) {}

  private err(path: string, message: string): void {
    this.issues.add(path, message);
  }

  request(root: JsonValue): JsonValue {
    if (!isObject(root) || !isObject(root.Workflow ?? root.workflow)) {
      this.err('Workflow', 'the document must be a map with a "Workflow:" key holding the workflow');
      return null;
    }
    const wf = (root.Workflow ?? root.workflow) as JsonObject;
    const properties: JsonObject = {};
    const workflow: JsonObject = {};
    const params: JsonObject = {};
    for (const [k, v] of Object.entries(wf)) {
      if (PROPERTY_KEYS.includes(k)) defineEntry(properties, k, v);
      else if (k === 'params' && isObject(v)) Object.assign(params, v);
      else if (WORKFLOW_KEYS.includes(k)) {
        if (k !== 'jobs' && k !== 'dag' && k !== 'is_active') defineEntry(workflow, k, v);
      } else this.param(k, v, 'Workflow', params);
    }
    if (Object.keys(params).length > 0) workflow.params = params;
    workflow.steps = this.jobs(wf.jobs, 'Workflow.jobs', wf.dag, 'Workflow.dag');
    const req: JsonObject = { workflow };
    if (Object.keys(properties).length > 0) req.properties = properties;
    if (wf.is_active !== undefined) req.is_active = wf.is_active;
    return req;
  }

  private jobs(v: JsonValue | undefined, path: string, dag: JsonValue | undefined, dagPath: string): JsonValue[] {
    if (v === undefined || v === null) {
      this.err(path, 'is required: a list of jobs');
      return [];
    }
    if (!Array.isArray(v)) {
      this.err(path, 'must be a list of jobs');
      return [];
    }
    let sequential = false;
    if (dag !== undefined && dag !== null) {
      if (typeof dag === 'string' && /^(sequential|parallel)$/i.test(dag)) sequential = dag.toLowerCase() === 'sequential';
      else this.err(dagPath, `must be "sequential" or "parallel", got ${JSON.stringify(dag)}`);
    }
    const steps = v.map((j, i) => this.job(j, fieldPath(path, i)));
    if (sequential) {
      steps.forEach((s, i) => {
        const next = steps[i + 1];
        const inner = s && (Object.values(s)[0] as JsonObject | undefined);
        const nextInner = next && (Object.values(next)[0] as JsonObject | undefined);
        if (inner && nextInner && inner.transition === undefined && typeof nextInner.id === 'string') {
          inner.transition = { successors: { [nextInner.id]: 'true' } };
        }
      });
    }
    return steps.filter((s): s is JsonObject => s !== undefined);
  }

  private job(v: JsonValue, path: string): JsonObject | undefined {
    if (!isObject(v) || Object.keys(v).length !== 1) {
      this.err(path, 'must be a map with one key: job, foreach, while or subworkflow');
      return undefined;
    }
    const [key, body] = Object.entries(v)[0] as [string, JsonValue];
    const kind = JOB_KINDS[key.toLowerCase()];
    const p = fieldPath(path, key);
    if (!kind) {
      this.err(path, `unknown job kind "${key}"; use job, foreach, while or subworkflow`);
      return undefined;
    }
    if (!isObject(body)) {
      this.err(p, 'must be a map');
      return undefined;
    }
    const out: JsonObject = {};
    const params: JsonObject = {};
    for (const [k, x] of Object.entries(body)) {
      if (k === 'params' && isObject(x)) Object.assign(params, x);
      else if (k === 'transition') out.transition = this.transition(x, fieldPath(p, 'transition'));
      else if (k === 'jobs') out.steps = this.jobs(x, fieldPath(p, 'jobs'), body.dag, fieldPath(p, 'dag'));
      else if (k === 'dag') continue;
      else if (JOB_KEYS.includes(k)) defineEntry(out, k, x);
      else this.param(k, x, p, params);
    }
    if (Object.keys(params).length > 0) out.params = params;
    return { [kind]: out };
  }

  private transition(v: JsonValue, path: string): JsonValue {
    if (isObject(v)) return v; // already Maestro's {successors: {...}}
    const lines = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
    if (!lines) {
      this.err(path, 'must be a list of job ids, "IF <condition> THEN <job>" or "OTHERWISE <job>"');
      return {};
    }
    const conds = new Map<string, string[]>();
    const ifConditions: string[] = [];
    const otherwise: string[] = [];
    lines.forEach((line, i) => {
      const lp = fieldPath(path, i);
      if (typeof line !== 'string') {
        this.err(lp, 'must be a string');
        return;
      }
      const ifm = /^\s*if\s+([\s\S]+?)\s+then\s+(\S+)\s*$/i.exec(line);
      const om = /^\s*otherwise\s+(\S+)\s*$/i.exec(line);
      if (ifm) {
        const [, cond = '', target = ''] = ifm;
        ifConditions.push(cond);
        conds.set(target, [...(conds.get(target) ?? []), cond]);
      } else if (om) otherwise.push(om[1] as string);
      else if (/^\s*\S+\s*$/.test(line)) conds.set(line.trim(), [...(conds.get(line.trim()) ?? []), 'true']);
      else this.err(lp, `cannot read "${line}": expected a job id, "IF <condition> THEN <job>" or "OTHERWISE <job>"`);
    });
    const otherwiseCond = ifConditions.length === 0 ? 'true' : ifConditions.map((c) => `!(${c})`).join(' && ');
    for (const target of otherwise) conds.set(target, [...(conds.get(target) ?? []), otherwiseCond]);
    const successors: JsonObject = {};
    for (const [target, cs] of conds) defineEntry(successors, target, cs.length === 1 ? (cs[0] as string) : cs.map((c) => `(${c})`).join(' || '));
    return { successors };
  }

  /** One DSL param key/value → a Maestro param definition in `into`. */
  private param(key: string, v: JsonValue, path: string, into: JsonObject): void {
    const m = /^(!)?\s*([^<>!]+?)\s*(?:<\s*([^<>]+?)\s*>)?$/.exec(key);
    const p = fieldPath(path, key);
    if (!m) {
      this.err(p, `cannot read param key "${key}": expected name, name<type>, !name or !name<type>`);
      return;
    }
    const [, bang, name = '', hintText] = m;
    let type: string | undefined;
    if (hintText !== undefined) {
      type = HINTS[hintText.toLowerCase()] ?? parseParamType(hintText);
      if (!type) {
        this.err(p, `unknown type hint <${hintText}>`);
        return;
      }
    }
    if (v === null) {
      this.err(p, 'has no value');
      return;
    }
    const def: JsonObject = {};
    if (bang) {
      if (typeof v !== 'string') {
        this.err(p, `a "!" param is a SEL expression and must be a string, got ${Array.isArray(v) ? 'a list' : typeof v}`);
        return;
      }
      def.expression = v;
      if (type) def.type = type;
    } else {
      let inferred: string;
      try {
        inferred = type ?? inferParamType(v);
      } catch (e) {
        this.err(p, (e as Error).message);
        return;
      }
      if (inferred === 'MAP' && isObject(v)) {
        const nested: JsonObject = {};
        for (const [k, x] of Object.entries(v)) this.param(k, x, p, nested);
        def.value = nested;
      } else def.value = v;
      def.type = inferred;
    }
    defineEntry(into, name, def);
  }
}

/** Source position of the YAML node a model path like `workflow.steps[2].steps[0].id` is about. */
function locate(doc: Document, lc: LineCounter, field: string): { line: number; column: number } | undefined {
  const root = doc.contents;
  if (!isMap(root)) return undefined;
  let node = (root.get('Workflow', true) ?? root.get('workflow', true)) as YamlNode | undefined;
  const re = /(?:^|\.)steps\[(\d+)\]/g;
  if (!field.startsWith('workflow')) return undefined;
  let m: RegExpExecArray | null;
  while ((m = re.exec(field)) !== null) {
    if (!isMap(node)) break;
    const jobs = node.get('jobs', true);
    if (!isSeq(jobs)) break;
    const wrapper = jobs.items[Number(m[1])];
    if (!isMap(wrapper)) break;
    const first = wrapper.items[0]?.value;
    if (!first) break;
    node = first as YamlNode;
  }
  const offset = node?.range?.[0];
  if (offset === undefined) return undefined;
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
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
  const json = new YamlRewriter(issues).request(normalized);
  const request = issues.empty ? new MaestroReader(issues, { allowUntypedExpressions: true }).request(json) : undefined;
  if (!issues.empty || !request) {
    return {
      ok: false,
      errors: issues.list.map((i) => {
        const pos = locate(doc, lineCounter, i.field);
        return pos && i.line === undefined ? { ...i, line: pos.line, column: pos.column } : i;
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
