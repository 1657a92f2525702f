/** Reading steps (with loops, transitions, retry policies, signal dependencies and outputs) from Maestro's JSON. */
import { fieldPath } from './issues.js';
import { BACKOFF_TYPES, FAILURE_MODES, type Backoff, type BackoffType, type FailureMode, type JsonValue, type ParamDefMap, type RetryPolicy, type SignalDependency, type SignalOutput, type Step, type Transition } from './model.js';
import { defineEntry } from '../params/typed-value.js';
import { TriggerReader } from './read-triggers.js';
import { isObject, kindOf } from './json-fields.js';

export class StepReader extends TriggerReader {
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

  protected step(v: JsonValue, path: string): Step | undefined {
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
  protected loopParams(params: ParamDefMap, path: string, required: boolean): ParamDefMap {
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

  protected transition(v: JsonValue | undefined, path: string): Transition {
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

  protected retryPolicy(v: JsonValue | undefined, path: string): RetryPolicy | undefined {
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

  protected signalDependencies(v: JsonValue | undefined, path: string): SignalDependency[] {
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

  protected signalOutputs(v: JsonValue | undefined, path: string): SignalOutput[] {
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
