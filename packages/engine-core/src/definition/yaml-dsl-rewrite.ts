import { isObject } from './from-json.js';
import type { Issues } from './issues.js';
import type { JsonObject, JsonValue } from './model.js';
import { MAESTRO_STEP_TYPES } from './validate.js';
import { defineEntry } from '../params/typed-value.js';
import { dslParam, dslParams } from './yaml-dsl-params.js';
import { dagTransitions, parseTransition, transitionLines } from './yaml-dsl-transition.js';
import { DslWhere } from './yaml-dsl-where.js';

/**
 * Maestro's YAML DSL (its `maestro-dsl` module: `DslWorkflow`, the jobs, `WorkflowParser`) →
 * Maestro's JSON create request, which the JSON reader then reads, so both forms obey one set of
 * rules. Fields the DSL names are fields; any other key is a param (`yaml-dsl-params.ts`).
 * `docs/maestro-compatibility.md` lists the forms and what Baton adds.
 */

export interface DslOptions {
  /**
   * A job `type` that is not one of Maestro's step types (a job template such as `spark`):
   * the step type to run it as, which makes the job type the step's `sub_type` (Maestro's
   * `StepTypeResolver`). Without it, or when it returns undefined, the type stays as written.
   */
  stepTypeResolver?: (jobType: string, version: string | undefined) => string | undefined;
}

const WORKFLOW_FIELDS = ['id', 'name', 'description', 'tags', 'timeout', 'time_triggers', 'signal_triggers'];
const PROPERTY_FIELDS = ['owner', 'step_concurrency', 'signal_trigger_disabled', 'time_trigger_disabled'];
const CRITICALITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
const JOB_FIELDS = ['id', 'name', 'description', 'failure_mode', 'tags', 'timeout', 'signal_dependencies', 'signal_outputs'];
const KIND_FIELDS: Record<string, string[]> = {
  step: ['type', 'type_version', 'sub_type', 'retry_policy', 'params'],
  foreach: ['concurrency', 'job_concurrency', 'loop_params', 'params', 'ranges', 'jobs', 'dag', 'strict_ordering'],
  while: ['loop_params', 'params', 'condition', 'jobs', 'dag'],
  subworkflow: ['workflow_id', 'subworkflow_id', 'version', 'subworkflow_version', 'sync', 'explicit_params', 'params'],
};
const JOB_KINDS: Record<string, string> = { job: 'step', step: 'step', foreach: 'foreach', while: 'while', subworkflow: 'subworkflow' };

function given(v: JsonValue | undefined): v is JsonValue {
  return v !== undefined && v !== null;
}

function kindOf(v: JsonValue): string {
  return Array.isArray(v) ? 'a list' : isObject(v) ? 'a map' : JSON.stringify(typeof v === 'bigint' ? Number(v) : v);
}

export class DslRewriter {
  /** Where each reported field is in the document (for line and column). */
  readonly places = new Map<string, readonly (string | number)[]>();

  constructor(
    private readonly issues: Issues,
    private readonly opts: DslOptions = {},
  ) {}

  private readonly err = (where: DslWhere, message: string): void => {
    this.issues.add(where.text, message);
    this.places.set(where.text, where.segments);
  };

  request(root: JsonValue): JsonValue {
    const key = isObject(root) ? ['Workflow', 'workflow'].find((k) => isObject(root[k])) : undefined;
    if (!isObject(root) || key === undefined) {
      this.err(DslWhere.root('Workflow'), 'the document must be a map with a "Workflow:" key holding the workflow');
      return null;
    }
    const at = DslWhere.root(key);
    const wf = root[key] as JsonObject;
    const workflow: JsonObject = {};
    const properties: JsonObject = {};
    const params: JsonObject = {};
    for (const [k, v] of Object.entries(wf)) {
      if (WORKFLOW_FIELDS.includes(k)) defineEntry(workflow, k, v);
      else if (PROPERTY_FIELDS.includes(k)) defineEntry(properties, k, v);
      else if (k === 'criticality') this.criticality(v, at.key(k), workflow);
      else if (k === 'params' && isObject(v)) Object.assign(params, v); // Baton: Maestro JSON param definitions
      else if (k === 'workflow_params') this.err(at.key(k), 'is a reserved field: write workflow params as keys of the workflow');
      else if (!['run_strategy', 'workflow_concurrency', 'jobs', 'dag', 'is_active'].includes(k)) dslParam(k, v, at.key(k), params, this.err);
    }
    this.runStrategy(wf, at, properties);
    if (Object.keys(params).length > 0) workflow.params = params;
    workflow.steps = this.jobs(wf.jobs, at.key('jobs'), wf.dag, at.key('dag'));
    const req: JsonObject = { workflow };
    if (Object.keys(properties).length > 0) req.properties = properties;
    if (wf.is_active !== undefined) req.is_active = wf.is_active;
    return req;
  }

  private criticality(v: JsonValue, where: DslWhere, workflow: JsonObject): void {
    const c = typeof v === 'string' ? v.trim().toUpperCase() : undefined;
    if (c === undefined || !CRITICALITIES.includes(c)) this.err(where, `must be one of ${CRITICALITIES.join(', ')}, got ${kindOf(v)}`);
    else workflow.criticality = c;
  }

  /** `run_strategy` (a rule) and `workflow_concurrency` → Maestro's `properties.run_strategy`. */
  private runStrategy(wf: JsonObject, at: DslWhere, properties: JsonObject): void {
    const rule = wf.run_strategy;
    const concurrency = wf.workflow_concurrency;
    if (!given(concurrency)) {
      if (given(rule)) properties.run_strategy = rule;
      return;
    }
    if (typeof concurrency !== 'bigint') {
      this.err(at.key('workflow_concurrency'), `must be a whole number, got ${kindOf(concurrency)}`);
      return;
    }
    // Maestro drops workflow_concurrency without a run_strategy; Baton applies it to PARALLEL.
    if (isObject(rule)) properties.run_strategy = { ...rule, workflow_concurrency: rule.workflow_concurrency ?? concurrency };
    else properties.run_strategy = { rule: given(rule) ? rule : 'PARALLEL', workflow_concurrency: concurrency };
  }

  private jobs(v: JsonValue | undefined, where: DslWhere, dag: JsonValue | undefined, dagWhere: DslWhere): JsonValue[] {
    if (!given(v)) {
      this.err(where, 'is required: a list of jobs');
      return [];
    }
    if (!Array.isArray(v)) {
      this.err(where, 'must be a list of jobs');
      return [];
    }
    const bodies = v.map((j) => (isObject(j) && Object.keys(j).length === 1 ? Object.values(j)[0] : undefined));
    const ids = bodies.map((b) => (isObject(b) && typeof b.id === 'string' ? b.id : undefined));
    const own = bodies.map((b) => isObject(b) && (isObject(b.transition) || (transitionLines(b.transition, where, () => {}) ?? []).length > 0));
    const fromDag = dagTransitions(dag, ids, own, dagWhere, this.err);
    const out: JsonValue[] = [];
    v.forEach((j, i) => {
      const step = this.job(j, where.index(i), fromDag.get(i));
      if (step) out.push(step);
    });
    return out;
  }

  private job(v: JsonValue, where: DslWhere, dagLines: string[] | undefined): JsonObject | undefined {
    if (!isObject(v) || Object.keys(v).length !== 1) {
      this.err(where, 'must be a map with one key: job, foreach, while or subworkflow');
      return undefined;
    }
    const [key, body] = Object.entries(v)[0] as [string, JsonValue];
    const kind = JOB_KINDS[key.toLowerCase()];
    if (!kind) {
      this.err(where, `unknown job kind "${key}"; use job, foreach, while or subworkflow`);
      return undefined;
    }
    const at = where.key(key);
    if (!isObject(body)) {
      this.err(at, 'must be a map');
      return undefined;
    }
    const out: JsonObject = {};
    const params: JsonObject = {};
    const own = KIND_FIELDS[kind] as string[];
    for (const [k, x] of Object.entries(body)) {
      if (JOB_FIELDS.includes(k)) defineEntry(out, k, x);
      else if (k === 'transition') {
        if (isObject(x)) out.transition = x; // Maestro's JSON {successors: {...}}
        else {
          const lines = transitionLines(x, at.key(k), this.err);
          if (lines) out.transition = parseTransition(lines, at.key(k), this.err);
        }
      } else if (k === 'job_params') this.err(at.key(k), 'is a reserved field: write job params as keys of the job');
      else if (!own.includes(k)) dslParam(k, x, at.key(k), params, this.err);
    }
    if (dagLines && out.transition === undefined) out.transition = parseTransition(dagLines, at.key('transition'), this.err);
    if (kind === 'step') this.typed(body, at, out, params);
    else if (kind === 'foreach') this.foreach(body, at, out, params);
    else if (kind === 'while') this.whileJob(body, at, out, params);
    else this.subworkflow(body, at, out, params);
    if (Object.keys(params).length > 0) out.params = params;
    return { [kind]: out };
  }

  /** Baton: a job's `params:` holds Maestro JSON param definitions, merged with the DSL ones. */
  private jsonParams(body: JsonObject, at: DslWhere, params: JsonObject): void {
    if (!given(body.params)) return;
    if (!isObject(body.params)) {
      this.err(at.key('params'), 'must be a map of Maestro param definitions');
      return;
    }
    for (const [k, x] of Object.entries(body.params)) {
      if (Object.hasOwn(params, k)) this.err(at.key('params').key(k), `defines param ${k} a second time`);
      else defineEntry(params, k, x);
    }
  }

  private typed(body: JsonObject, at: DslWhere, out: JsonObject, params: JsonObject): void {
    this.jsonParams(body, at, params);
    for (const k of ['sub_type', 'retry_policy']) if (body[k] !== undefined) defineEntry(out, k, body[k] as JsonValue);
    const version = given(body.type_version) ? String(typeof body.type_version === 'object' ? JSON.stringify(body.type_version) : body.type_version) : undefined;
    if (version !== undefined) out.type_version = version;
    const type = body.type;
    if (typeof type !== 'string') {
      if (given(type)) this.err(at.key('type'), `must be a string, got ${kindOf(type)}`);
      return; // the JSON reader reports a missing type
    }
    const maestro = MAESTRO_STEP_TYPES.find((t) => t.toLowerCase() === type.trim().toLowerCase());
    const resolved = maestro ? undefined : this.opts.stepTypeResolver?.(type, version);
    if (maestro) out.type = maestro;
    else if (resolved) {
      out.type = resolved;
      if (out.sub_type === undefined) out.sub_type = type;
    } else out.type = type;
  }

  /** Loop params: `params` / `loop_params` (DSL params), `ranges`, and Baton's `'loop_params<pmap>'` param. */
  private loopParams(body: JsonObject, at: DslWhere, params: JsonObject, ranges: boolean): JsonObject | undefined {
    let loop: JsonObject | undefined;
    if (given(body.params) && given(body.loop_params)) this.err(at.key('loop_params'), 'give the loop params once: as params or as loop_params');
    const lpKey = given(body.loop_params) ? 'loop_params' : 'params';
    const lp = body[lpKey];
    if (given(lp)) {
      if (isObject(lp)) loop = dslParams(lp, at.key(lpKey), this.err);
      else this.err(at.key(lpKey), `must be a map of loop params, got ${kindOf(lp)}`);
    }
    const asParam = params.loop_params;
    if (isObject(asParam) && isObject(asParam.value) && asParam.type === 'MAP') {
      delete params.loop_params;
      loop = { ...(loop ?? {}), ...asParam.value };
    }
    if (ranges && given(body.ranges)) {
      loop ??= {};
      if (!isObject(body.ranges)) this.err(at.key('ranges'), `must be a map of loop param → {from, to, increment}, got ${kindOf(body.ranges)}`);
      else for (const [name, r] of Object.entries(body.ranges)) this.range(name, r, at.key('ranges').key(name), loop);
    }
    return loop;
  }

  /** A range loop param: LONG_ARRAY `Util.intsBetween(from, to, increment)` (from 0, step 1 by default). */
  private range(name: string, r: JsonValue, where: DslWhere, loop: JsonObject): void {
    if (!isObject(r)) {
      this.err(where, `must be a map {from, to, increment}, got ${kindOf(r)}`);
      return;
    }
    const num = (k: string, dflt?: bigint): bigint | undefined => {
      const x = r[k];
      if (!given(x)) {
        if (dflt === undefined) this.err(where.key(k), 'is required: where the range ends (exclusive)');
        return dflt;
      }
      if (typeof x !== 'bigint') this.err(where.key(k), `must be a whole number, got ${kindOf(x)}`);
      return typeof x === 'bigint' ? x : undefined;
    };
    const from = num('from', 0n);
    const to = num('to');
    const inc = num('increment', 1n);
    if (inc === 0n) this.err(where.key('increment'), 'must not be 0');
    if (Object.hasOwn(loop, name)) this.err(where, `defines loop param ${name} a second time`);
    else if (from !== undefined && to !== undefined && inc !== undefined && inc !== 0n) {
      defineEntry(loop, name, { expression: `Util.intsBetween(${from}, ${to}, ${inc});`, type: 'LONG_ARRAY' });
    }
  }

  private nested(body: JsonObject, at: DslWhere, out: JsonObject): void {
    out.steps = this.jobs(body.jobs, at.key('jobs'), body.dag, at.key('dag'));
  }

  private foreach(body: JsonObject, at: DslWhere, out: JsonObject, params: JsonObject): void {
    if (given(body.concurrency) && given(body.job_concurrency)) this.err(at.key('job_concurrency'), 'give the concurrency once: as concurrency or as job_concurrency');
    const concurrency = body.concurrency ?? body.job_concurrency;
    if (given(concurrency)) out.concurrency = concurrency;
    if (body.strict_ordering !== undefined) out.strict_ordering = body.strict_ordering;
    defineEntry(params, 'loop_params', { type: 'MAP', value: this.loopParams(body, at, params, true) ?? {} });
    this.nested(body, at, out);
  }

  private whileJob(body: JsonObject, at: DslWhere, out: JsonObject, params: JsonObject): void {
    if (body.condition !== undefined) out.condition = body.condition;
    const loop = this.loopParams(body, at, params, false);
    if (loop) defineEntry(params, 'loop_params', { type: 'MAP', value: loop });
    this.nested(body, at, out);
  }

  private subworkflow(body: JsonObject, at: DslWhere, out: JsonObject, params: JsonObject): void {
    this.jsonParams(body, at, params);
    for (const k of ['sync', 'explicit_params']) if (body[k] !== undefined) defineEntry(out, k, body[k] as JsonValue);
    const pick = (a: string, b: string): [string, JsonValue] | undefined => {
      if (given(body[a]) && given(body[b])) this.err(at.key(b), `give it once: as ${a} or as ${b}`);
      const k = given(body[a]) ? a : given(body[b]) ? b : undefined;
      return k === undefined ? undefined : [k, body[k] as JsonValue];
    };
    const id = pick('workflow_id', 'subworkflow_id');
    const version = pick('version', 'subworkflow_version');
    for (const [k, x] of [id, version].filter((e): e is [string, JsonValue] => e !== undefined)) {
      if (typeof x === 'object' || x === null) this.err(at.key(k), `must be a workflow ${k.endsWith('id') ? 'id' : 'version'}, got ${kindOf(x)}`);
    }
    // The workflow to run is the job's own id unless named (a `'!subworkflow_id'` param also names it).
    if (id) defineEntry(params, 'subworkflow_id', { type: 'STRING', value: String(id[1]) });
    else if (!Object.hasOwn(params, 'subworkflow_id') && typeof body.id === 'string') defineEntry(params, 'subworkflow_id', { type: 'STRING', value: body.id });
    if (version) defineEntry(params, 'subworkflow_version', { type: 'STRING', value: String(version[1]) });
  }
}
