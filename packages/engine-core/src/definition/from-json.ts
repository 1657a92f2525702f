import { toDurationSpec, toIntSpec, toSecondsSpec } from './duration.js';
import { fieldPath, Issues, type DefinitionIssue } from './issues.js';
import {
  BACKOFF_TYPES,
  FAILURE_MODES,
  PARAM_MODES,
  RUN_STRATEGY_RULES,
  type Backoff,
  type BackoffType,
  type DurationSpec,
  type FailureMode,
  type IntSpec,
  type JsonObject,
  type JsonValue,
  type ParamDef,
  type ParamDefMap,
  type ParamLiteral,
  type ParamMode,
  type Properties,
  type RetryPolicy,
  type RunStrategy,
  type RunStrategyRule,
  type SignalDependency,
  type SignalOutput,
  type SignalTrigger,
  type Step,
  type Tag,
  type TimeTrigger,
  type Transition,
  type Workflow,
  type WorkflowRequest,
} from './model.js';
import { defineEntry, jsonToParamValue, parseParamType } from '../params/typed-value.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: DefinitionIssue[] };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v === 'bigint' ? 'number' : typeof v}`;
}

/**
 * Reads Maestro's JSON shapes into the model, collecting every problem with its field path.
 * Used for JSON requests and, after the YAML DSL is rewritten into the same shapes, for YAML.
 */
export class MaestroReader {
  constructor(
    readonly issues: Issues = new Issues(),
    /** The YAML DSL lets `'!name': <SEL>` omit the type; JSON definitions always give one. */
    private readonly opts: { allowUntypedExpressions?: boolean } = {},
  ) {}

  private err(path: string, message: string): void {
    this.issues.add(path, message);
  }

  /** The members of `obj` not in `known`, as raw JSON, or undefined when there are none. */
  private extra(obj: JsonObject, known: readonly string[]): JsonObject | undefined {
    let out: JsonObject | undefined;
    for (const [k, v] of Object.entries(obj)) {
      if (known.includes(k)) continue;
      out ??= {};
      defineEntry(out, k, v);
    }
    return out;
  }

  private str(obj: JsonObject, key: string, path: string, required = false): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.err(fieldPath(path, key), 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.err(fieldPath(path, key), `must be a string, got ${kindOf(v)}`);
      return undefined;
    }
    if (required && v.trim() === '') this.err(fieldPath(path, key), 'must not be empty');
    return v;
  }

  private bool(obj: JsonObject, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    this.err(fieldPath(path, key), `must be true or false, got ${kindOf(v)}`);
    return undefined;
  }

  private int(obj: JsonObject, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.err(fieldPath(path, key), `must be a whole number, got ${kindOf(v)}`);
      return undefined;
    }
    if (n < min || n > max) {
      this.err(fieldPath(path, key), `must be between ${min} and ${max}, got ${n}`);
      return undefined;
    }
    return n;
  }

  private enumValue<T extends string>(v: JsonValue | undefined, allowed: readonly T[], path: string): T | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.err(path, `must be one of ${allowed.join(', ')}, got ${kindOf(v)}`);
      return undefined;
    }
    const upper = v.trim().toUpperCase();
    if (!(allowed as readonly string[]).includes(upper)) {
      this.err(path, `must be one of ${allowed.join(', ')}, got "${v}"`);
      return undefined;
    }
    return upper as T;
  }

  private duration(v: JsonValue | undefined, path: string): DurationSpec | undefined {
    if (v === undefined || v === null) return undefined;
    try {
      return toDurationSpec(v);
    } catch (e) {
      this.err(path, (e as Error).message);
      return undefined;
    }
  }

  private intSpec(v: JsonValue | undefined, path: string, seconds = false): IntSpec | undefined {
    if (v === undefined || v === null) return undefined;
    try {
      return seconds ? toSecondsSpec(v) : toIntSpec(v);
    } catch (e) {
      this.err(path, (e as Error).message);
      return undefined;
    }
  }

  private object(v: JsonValue | undefined, path: string, required = false): JsonObject | undefined {
    if (v === undefined || v === null) {
      if (required) this.err(path, 'is required');
      return undefined;
    }
    if (!isObject(v)) {
      this.err(path, `must be an object, got ${kindOf(v)}`);
      return undefined;
    }
    return v;
  }

  private array(v: JsonValue | undefined, path: string): JsonValue[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.err(path, `must be an array, got ${kindOf(v)}`);
      return [];
    }
    return v;
  }

  request(root: JsonValue): WorkflowRequest | undefined {
    const obj = this.object(root, '', true);
    if (!obj) return undefined;
    // A bare workflow (no request envelope) is accepted as a request without properties.
    if (obj.workflow === undefined && (obj.steps !== undefined || obj.id !== undefined)) {
      const workflow = this.workflow(obj, 'workflow');
      return workflow && { workflow };
    }
    const workflow = this.workflow(obj.workflow, 'workflow');
    const propsRaw = this.object(obj.properties, 'properties');
    const properties = propsRaw && this.properties(propsRaw, 'properties');
    const isActive = this.bool(obj, 'is_active', '');
    if (!workflow) return undefined;
    const req: WorkflowRequest = { workflow };
    if (properties) req.properties = properties;
    if (isActive !== undefined) req.isActive = isActive;
    const extra = this.extra(obj, ['workflow', 'properties', 'is_active']);
    if (extra) req.extra = extra;
    return req;
  }

  properties(obj: JsonObject, path: string): Properties {
    const p: Properties = {};
    // Maestro's owner is a User: a name, or an object {name, ...} (kept as given).
    const ownerObj = isObject(obj.owner) ? obj.owner : undefined;
    const owner = ownerObj ? this.str(ownerObj, 'name', fieldPath(path, 'owner'), true) : this.str(obj, 'owner', path);
    if (owner !== undefined) p.owner = owner;
    if (ownerObj && owner !== undefined) p.ownerDetails = ownerObj;
    const rs = this.runStrategy(obj.run_strategy, fieldPath(path, 'run_strategy'));
    if (rs) p.runStrategy = rs;
    const sc = this.int(obj, 'step_concurrency', path, 1, 1_000_000);
    if (sc !== undefined) p.stepConcurrency = sc;
    const sd = this.bool(obj, 'signal_trigger_disabled', path);
    if (sd !== undefined) p.signalTriggerDisabled = sd;
    const td = this.bool(obj, 'time_trigger_disabled', path);
    if (td !== undefined) p.timeTriggerDisabled = td;
    if (obj.tags !== undefined) p.tags = this.tags(obj.tags, fieldPath(path, 'tags'));
    const extra = this.extra(obj, ['owner', 'run_strategy', 'step_concurrency', 'signal_trigger_disabled', 'time_trigger_disabled', 'tags']);
    if (extra) p.extra = extra;
    return p;
  }

  private runStrategy(v: JsonValue | undefined, path: string): RunStrategy | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') {
      const rule = this.enumValue<RunStrategyRule>(v, RUN_STRATEGY_RULES, path);
      return rule && { rule };
    }
    const obj = this.object(v, path);
    if (!obj) return undefined;
    const rule = obj.rule === undefined ? undefined : this.enumValue<RunStrategyRule>(obj.rule, RUN_STRATEGY_RULES, fieldPath(path, 'rule'));
    if (obj.rule === undefined) this.err(fieldPath(path, 'rule'), 'is required');
    if (!rule) return undefined;
    const rs: RunStrategy = { rule };
    const wc = this.int(obj, 'workflow_concurrency', path, 1, 100_000);
    if (wc !== undefined) rs.maxConcurrency = wc;
    const extra = this.extra(obj, ['rule', 'workflow_concurrency']);
    if (extra) rs.extra = extra;
    return rs;
  }

  tags(v: JsonValue, path: string): Tag[] {
    const out: Tag[] = [];
    this.array(v, path).forEach((t, i) => {
      const p = fieldPath(path, i);
      if (typeof t === 'string') {
        out.push({ name: t });
        return;
      }
      const obj = this.object(t, p);
      if (!obj) return;
      const name = this.str(obj, 'name', p, true);
      if (name === undefined) return;
      const tag: Tag = { name };
      const ns = this.str(obj, 'namespace', p);
      if (ns !== undefined) tag.namespace = ns;
      const extra = this.extra(obj, ['name', 'namespace']);
      if (extra) tag.extra = extra;
      out.push(tag);
    });
    return out;
  }

  workflow(v: JsonValue | undefined, path: string): Workflow | undefined {
    const obj = this.object(v, path, true);
    if (!obj) return undefined;
    const id = this.str(obj, 'id', path, true);
    const wf: Workflow = {
      id: id ?? '',
      tags: obj.tags === undefined ? [] : this.tags(obj.tags, fieldPath(path, 'tags')),
      params: this.params(obj.params, fieldPath(path, 'params')),
      timeTriggers: this.array(obj.time_triggers, fieldPath(path, 'time_triggers'))
        .map((t, i) => this.timeTrigger(t, fieldPath(fieldPath(path, 'time_triggers'), i)))
        .filter((t): t is TimeTrigger => t !== undefined),
      signalTriggers: this.array(obj.signal_triggers, fieldPath(path, 'signal_triggers'))
        .map((t, i) => this.signalTrigger(t, fieldPath(fieldPath(path, 'signal_triggers'), i)))
        .filter((t): t is SignalTrigger => t !== undefined),
      steps: this.steps(obj.steps, fieldPath(path, 'steps'), true),
    };
    const name = this.str(obj, 'name', path);
    if (name !== undefined) wf.name = name;
    const description = this.str(obj, 'description', path);
    if (description !== undefined) wf.description = description;
    const timeout = this.duration(obj.timeout, fieldPath(path, 'timeout'));
    if (timeout) wf.timeout = timeout;
    const extra = this.extra(obj, ['id', 'name', 'description', 'tags', 'timeout', 'params', 'time_triggers', 'signal_triggers', 'steps']);
    if (extra) wf.extra = extra;
    return id === undefined ? undefined : wf;
  }

  params(v: JsonValue | undefined, path: string): ParamDefMap {
    const out: ParamDefMap = {};
    const obj = this.object(v, path);
    if (!obj) return out;
    for (const [name, def] of Object.entries(obj)) {
      const p = this.param(name, def, fieldPath(path, name));
      if (p) defineEntry(out, name, p);
    }
    return out;
  }

  param(name: string, v: JsonValue, path: string): ParamDef | undefined {
    const obj = this.object(v, path, true);
    if (!obj) return undefined;
    const def: ParamDef = { name };
    const hasValue = obj.value !== undefined && obj.value !== null;
    const expression = this.str(obj, 'expression', path);
    if (hasValue && expression !== undefined) this.err(path, 'has both a value and an expression; give exactly one');
    if (!hasValue && expression === undefined) this.err(path, 'needs a value or an expression');
    if (expression !== undefined) def.expression = expression;

    const typeRaw = obj.type;
    if (typeRaw === undefined || typeRaw === null) {
      if (!(this.opts.allowUntypedExpressions && expression !== undefined && !hasValue)) this.err(fieldPath(path, 'type'), 'is required');
    }
    else if (typeof typeRaw !== 'string') this.err(fieldPath(path, 'type'), `must be a string, got ${kindOf(typeRaw)}`);
    else {
      const type = parseParamType(typeRaw);
      if (type) def.type = type;
      else this.err(fieldPath(path, 'type'), `unknown param type "${typeRaw}"; use STRING, LONG, DOUBLE, BOOLEAN, STRING_MAP, STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY, BOOLEAN_ARRAY or MAP`);
    }
    if (hasValue && def.type && expression === undefined) {
      const value = this.literal(def.type, obj.value as JsonValue, fieldPath(path, 'value'));
      if (value !== undefined) def.value = value;
    }
    const mode = this.enumValue<ParamMode>(obj.mode, PARAM_MODES, fieldPath(path, 'mode'));
    if (mode) def.mode = mode;
    const validator = this.str(obj, 'validator', path);
    if (validator !== undefined) def.validator = validator;
    if (obj.tags !== undefined) def.tags = this.tags(obj.tags, fieldPath(path, 'tags'));
    const extra = this.extra(obj, ['value', 'expression', 'type', 'mode', 'validator', 'tags']);
    if (extra) def.extra = extra;
    return def;
  }

  /** A param's literal value checked against its type; MAP values are nested definitions. */
  private literal(type: NonNullable<ParamDef['type']>, v: JsonValue, path: string): ParamLiteral | undefined {
    if (type === 'MAP') {
      const obj = this.object(v, path);
      return obj && this.params(obj, path);
    }
    try {
      return jsonToParamValue(type, v) as ParamLiteral;
    } catch (e) {
      this.err(path, `does not match type ${type}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private timeTrigger(v: JsonValue, path: string): TimeTrigger | undefined {
    const obj = this.object(v, path, true);
    if (!obj) return undefined;
    const type = this.enumValue(obj.type, ['CRON', 'PREDEFINED', 'INTERVAL'] as const, fieldPath(path, 'type'));
    if (obj.type === undefined) this.err(fieldPath(path, 'type'), 'is required (CRON, PREDEFINED or INTERVAL)');
    // An empty `timezone` means the default zone, as in Maestro (it is dropped, not refused).
    const tz = this.str(obj, 'timezone', path);
    const timezone = tz !== undefined && tz.trim() === '' ? undefined : tz;
    const fuzzy = this.duration(obj.fuzzy_max_delay, fieldPath(path, 'fuzzy_max_delay'));
    if (type === 'CRON') {
      const cron = this.str(obj, 'cron', path, true);
      if (cron === undefined) return undefined;
      const t: TimeTrigger = { type, cron };
      if (timezone !== undefined) t.timezone = timezone;
      if (fuzzy) t.fuzzyMaxDelay = fuzzy;
      const extra = this.extra(obj, ['type', 'cron', 'timezone', 'fuzzy_max_delay']);
      if (extra) t.extra = extra;
      return t;
    }
    if (type === 'PREDEFINED') {
      const expression = this.str(obj, 'expression', path, true);
      if (expression === undefined) return undefined;
      const t: TimeTrigger = { type, expression };
      if (timezone !== undefined) t.timezone = timezone;
      if (fuzzy) t.fuzzyMaxDelay = fuzzy;
      const extra = this.extra(obj, ['type', 'expression', 'timezone', 'fuzzy_max_delay']);
      if (extra) t.extra = extra;
      return t;
    }
    if (type === 'INTERVAL') {
      const interval = this.str(obj, 'interval', path, true);
      if (interval === undefined) return undefined;
      const t: TimeTrigger = { type, interval };
      const start = this.str(obj, 'start', path);
      if (start !== undefined) t.start = start;
      const extra = this.extra(obj, ['type', 'interval', 'start']);
      if (extra) t.extra = extra;
      return t;
    }
    return undefined;
  }

  private signalTrigger(v: JsonValue, path: string): SignalTrigger | undefined {
    const obj = this.object(v, path, true);
    if (!obj) return undefined;
    const defsPath = fieldPath(path, 'definitions');
    const defs = this.object(obj.definitions, defsPath, true) ?? {};
    const t: SignalTrigger = { definitions: {}, params: this.params(obj.params, fieldPath(path, 'params')) };
    if (Object.keys(defs).length === 0 && obj.definitions !== undefined) this.err(defsPath, 'must name at least one signal');
    for (const [name, d] of Object.entries(defs)) {
      const p = fieldPath(defsPath, name);
      const dobj = this.object(d, p, true);
      if (!dobj) continue;
      const matchParams: SignalTrigger['definitions'][string]['matchParams'] = {};
      const mp = this.object(dobj.match_params, fieldPath(p, 'match_params')) ?? {};
      for (const [key, m] of Object.entries(mp)) {
        const mpath = fieldPath(fieldPath(p, 'match_params'), key);
        const mobj = this.object(m, mpath, true);
        if (!mobj) continue;
        if (mobj.value === undefined) this.err(fieldPath(mpath, 'value'), 'is required');
        const operator = this.str(mobj, 'operator', mpath, true);
        if (mobj.value === undefined || operator === undefined) continue;
        const entry: SignalTrigger['definitions'][string]['matchParams'][string] = { value: mobj.value, operator };
        const extra = this.extra(mobj, ['value', 'operator']);
        if (extra) entry.extra = extra;
        defineEntry(matchParams, key, entry);
      }
      const joinKeys = this.array(dobj.join_keys, fieldPath(p, 'join_keys')).filter((k, i): k is string => {
        if (typeof k === 'string') return true;
        this.err(fieldPath(fieldPath(p, 'join_keys'), i), `must be a string, got ${kindOf(k)}`);
        return false;
      });
      const def: SignalTrigger['definitions'][string] = { matchParams, joinKeys };
      const extra = this.extra(dobj, ['match_params', 'join_keys']);
      if (extra) def.extra = extra;
      defineEntry(t.definitions, name, def);
    }
    const condition = this.str(obj, 'condition', path);
    if (condition !== undefined) t.condition = condition;
    const dedup = this.str(obj, 'dedup_expr', path);
    if (dedup !== undefined) t.dedupExpr = dedup;
    const extra = this.extra(obj, ['definitions', 'condition', 'dedup_expr', 'params']);
    if (extra) t.extra = extra;
    return t;
  }

  steps(v: JsonValue | undefined, path: string, required: boolean): Step[] {
    if ((v === undefined || v === null) && required) {
      this.err(path, 'is required');
      return [];
    }
    const out: Step[] = [];
    this.array(v, path).forEach((wrapped, i) => {
      const s = this.step(wrapped, fieldPath(path, i));
      if (s) out.push(s);
    });
    return out;
  }

  private step(v: JsonValue, path: string): Step | undefined {
    const wrapper = this.object(v, path, true);
    if (!wrapper) return undefined;
    const keys = Object.keys(wrapper);
    const kind = keys[0];
    if (keys.length !== 1 || (kind !== 'step' && kind !== 'foreach' && kind !== 'while' && kind !== 'subworkflow')) {
      this.err(path, `must be {"step": {...}}, {"foreach": {...}}, {"while": {...}} or {"subworkflow": {...}}, got keys ${JSON.stringify(keys)}`);
      return undefined;
    }
    const obj = this.object(wrapper[kind], path, true);
    if (!obj) return undefined;

    const id = this.str(obj, 'id', path, true);
    const params = this.params(obj.params, fieldPath(path, 'params'));
    const base = {
      id: id ?? '',
      tags: obj.tags === undefined ? [] : this.tags(obj.tags, fieldPath(path, 'tags')),
      params,
      transition: this.transition(obj.transition, fieldPath(path, 'transition')),
      signalDependencies: this.signalDependencies(obj.signal_dependencies, fieldPath(path, 'signal_dependencies')),
      signalOutputs: this.signalOutputs(obj.signal_outputs, fieldPath(path, 'signal_outputs')),
    } as Step;
    const name = this.str(obj, 'name', path);
    if (name !== undefined) base.name = name;
    const description = this.str(obj, 'description', path);
    if (description !== undefined) base.description = description;
    const failureMode = this.enumValue<FailureMode>(obj.failure_mode, FAILURE_MODES, fieldPath(path, 'failure_mode'));
    if (failureMode) base.failureMode = failureMode;
    const timeout = this.duration(obj.timeout, fieldPath(path, 'timeout'));
    if (timeout) base.timeout = timeout;
    const common = ['id', 'name', 'description', 'tags', 'params', 'transition', 'failure_mode', 'timeout', 'signal_dependencies', 'signal_outputs'];

    let step: Step;
    let known: string[];
    switch (kind) {
      case 'step': {
        const type = this.str(obj, 'type', path, true);
        step = { ...base, kind: 'step', type: type ?? '' };
        const subType = this.str(obj, 'sub_type', path);
        if (subType !== undefined) step.subType = subType;
        const rp = this.retryPolicy(obj.retry_policy, fieldPath(path, 'retry_policy'));
        if (rp) step.retryPolicy = rp;
        known = [...common, 'type', 'sub_type', 'retry_policy'];
        break;
      }
      case 'foreach': {
        step = { ...base, kind: 'foreach', loopParams: this.loopParams(params, path, true), steps: this.steps(obj.steps, fieldPath(path, 'steps'), true) };
        const c = this.int(obj, 'concurrency', path, 1, 100_000);
        if (c !== undefined) step.concurrency = c;
        const so = this.bool(obj, 'strict_ordering', path);
        if (so !== undefined) step.strictOrdering = so;
        known = [...common, 'steps', 'concurrency', 'strict_ordering'];
        break;
      }
      case 'while': {
        const condition = this.str(obj, 'condition', path, true);
        step = { ...base, kind: 'while', condition: condition ?? '', loopParams: this.loopParams(params, path, false), steps: this.steps(obj.steps, fieldPath(path, 'steps'), true) };
        known = [...common, 'steps', 'condition'];
        break;
      }
      case 'subworkflow': {
        const subId = params.subworkflow_id;
        if (!subId && !(isObject(obj.params) && Object.hasOwn(obj.params, 'subworkflow_id'))) this.err(fieldPath(path, 'params.subworkflow_id'), 'is required: the id of the workflow to run');
        delete params.subworkflow_id;
        const subVersion = params.subworkflow_version;
        delete params.subworkflow_version;
        step = { ...base, kind: 'subworkflow', subworkflowId: subId ?? { name: 'subworkflow_id', type: 'STRING' } };
        if (subVersion) step.subworkflowVersion = subVersion;
        const sync = this.bool(obj, 'sync', path);
        if (sync !== undefined) step.sync = sync;
        const ep = this.bool(obj, 'explicit_params', path);
        if (ep !== undefined) step.explicitParams = ep;
        known = [...common, 'sync', 'explicit_params'];
        break;
      }
    }
    const extra = this.extra(obj, known);
    if (extra) step.extra = extra;
    return id === undefined ? undefined : step;
  }

  /** Lifts `loop_params` (a MAP of param definitions) out of a loop step's params. */
  private loopParams(params: ParamDefMap, path: string, required: boolean): ParamDefMap {
    const lp = params.loop_params;
    delete params.loop_params;
    const p = fieldPath(path, 'params.loop_params');
    if (!lp) {
      if (required) this.err(p, 'is required: a MAP of the loop variables');
      return {};
    }
    if (lp.type !== undefined && lp.type !== 'MAP') this.err(fieldPath(p, 'type'), `must be MAP, got ${lp.type}`);
    if (lp.expression !== undefined) this.err(p, 'must be a MAP value of param definitions, not an expression');
    return (lp.value ?? {}) as ParamDefMap;
  }

  private transition(v: JsonValue | undefined, path: string): Transition {
    const t: Transition = { successors: {} };
    const obj = this.object(v, path);
    if (!obj) return t;
    const succ = this.object(obj.successors, fieldPath(path, 'successors')) ?? {};
    for (const [id, cond] of Object.entries(succ)) {
      const p = fieldPath(fieldPath(path, 'successors'), id);
      if (typeof cond === 'boolean') defineEntry(t.successors, id, String(cond));
      else if (typeof cond === 'string') defineEntry(t.successors, id, cond.trim() === '' ? 'true' : cond);
      else this.err(p, `must be a SEL condition string, got ${kindOf(cond)}`);
    }
    const extra = this.extra(obj, ['successors']);
    if (extra) t.extra = extra;
    return t;
  }

  private retryPolicy(v: JsonValue | undefined, path: string): RetryPolicy | undefined {
    const obj = this.object(v, path);
    if (!obj) return undefined;
    const rp: RetryPolicy = {};
    for (const [key, field] of [
      ['error_retry_limit', 'errorRetryLimit'],
      ['platform_retry_limit', 'platformRetryLimit'],
      ['timeout_retry_limit', 'timeoutRetryLimit'],
    ] as const) {
      const spec = this.intSpec(obj[key], fieldPath(path, key));
      if (spec !== undefined) rp[field] = spec;
    }
    const bobj = this.object(obj.backoff, fieldPath(path, 'backoff'));
    if (bobj) {
      const type = this.enumValue<BackoffType>(bobj.type, BACKOFF_TYPES, fieldPath(fieldPath(path, 'backoff'), 'type'));
      const backoff: Backoff = { type: type ?? 'EXPONENTIAL_BACKOFF' };
      const fields = [
        ['error_retry_backoff_in_secs', 'errorRetryBackoffInSecs'],
        ['error_retry_exponent', 'errorRetryExponent'],
        ['error_retry_limit_in_secs', 'errorRetryLimitInSecs'],
        ['platform_retry_backoff_in_secs', 'platformRetryBackoffInSecs'],
        ['platform_retry_exponent', 'platformRetryExponent'],
        ['platform_retry_limit_in_secs', 'platformRetryLimitInSecs'],
        ['timeout_retry_backoff_in_secs', 'timeoutRetryBackoffInSecs'],
        ['timeout_retry_exponent', 'timeoutRetryExponent'],
        ['timeout_retry_limit_in_secs', 'timeoutRetryLimitInSecs'],
      ] as const;
      for (const [key, field] of fields) {
        const spec = this.intSpec(bobj[key], fieldPath(fieldPath(path, 'backoff'), key), key.endsWith('_in_secs'));
        if (spec !== undefined) backoff[field] = spec;
      }
      const extra = this.extra(bobj, ['type', ...fields.map((f) => f[0])]);
      if (extra) backoff.extra = extra;
      rp.backoff = backoff;
    }
    const extra = this.extra(obj, ['error_retry_limit', 'platform_retry_limit', 'timeout_retry_limit', 'backoff']);
    if (extra) rp.extra = extra;
    return rp;
  }

  private signalDependencies(v: JsonValue | undefined, path: string): SignalDependency[] {
    const out: SignalDependency[] = [];
    if (Array.isArray(v) && v.length === 0) this.err(path, 'must not be an empty list (Maestro refuses it): leave the field out, or name at least one signal');
    this.array(v, path).forEach((d, i) => {
      const p = fieldPath(path, i);
      const obj = this.object(d, p, true);
      if (!obj) return;
      const name = this.str(obj, 'name', p, true);
      const dep: SignalDependency = { name: name ?? '', matchParams: {} };
      const mp = this.object(obj.match_params, fieldPath(p, 'match_params')) ?? {};
      for (const [key, m] of Object.entries(mp)) {
        const mpath = fieldPath(fieldPath(p, 'match_params'), key);
        const mobj = this.object(m, mpath, true);
        if (!mobj) continue;
        const param = this.param(key, mobj.param ?? null, fieldPath(mpath, 'param'));
        const operator = this.str(mobj, 'operator', mpath, true);
        if (!param || operator === undefined) continue;
        const entry: SignalDependency['matchParams'][string] = { param, operator };
        const extra = this.extra(mobj, ['param', 'operator']);
        if (extra) entry.extra = extra;
        defineEntry(dep.matchParams, key, entry);
      }
      const extra = this.extra(obj, ['name', 'match_params']);
      if (extra) dep.extra = extra;
      if (name !== undefined) out.push(dep);
    });
    return out;
  }

  private signalOutputs(v: JsonValue | undefined, path: string): SignalOutput[] {
    const out: SignalOutput[] = [];
    if (Array.isArray(v) && v.length === 0) this.err(path, 'must not be an empty list (Maestro refuses it): leave the field out, or name at least one signal');
    this.array(v, path).forEach((d, i) => {
      const p = fieldPath(path, i);
      const obj = this.object(d, p, true);
      if (!obj) return;
      const name = this.str(obj, 'name', p, true);
      const so: SignalOutput = { name: name ?? '', params: this.params(obj.params, fieldPath(p, 'params')) };
      if (obj.payload !== undefined) so.payload = obj.payload;
      const extra = this.extra(obj, ['name', 'params', 'payload']);
      if (extra) so.extra = extra;
      if (name !== undefined) out.push(so);
    });
    return out;
  }
}
