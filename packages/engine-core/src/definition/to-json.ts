import { durationSpecToJson, intSpecToJson } from './duration.js';
import type {
  JsonObject,
  JsonValue,
  ParamDef,
  ParamDefMap,
  Properties,
  RetryPolicy,
  SignalTrigger,
  Step,
  Tag,
  TimeTrigger,
  Workflow,
  WorkflowRequest,
} from './model.js';
import { defineEntry, paramValueToJson } from '../params/typed-value.js';

/*
 * Model → Maestro's JSON shapes. `parse(toJson(m))` equals `m`, and the output is what the versions
 * store keeps and hashes: members in a fixed order, unknown fields (`extra`) merged back in.
 */

function put(out: JsonObject, key: string, v: JsonValue | undefined): void {
  if (v !== undefined) defineEntry(out, key, v);
}

function withExtra(out: JsonObject, extra: JsonObject | undefined): JsonObject {
  if (extra) for (const [k, v] of Object.entries(extra)) if (!Object.hasOwn(out, k)) defineEntry(out, k, v);
  return out;
}

export function tagsToJson(tags: readonly Tag[]): JsonValue[] {
  return tags.map((t) => {
    const o: JsonObject = { name: t.name };
    put(o, 'namespace', t.namespace);
    return withExtra(o, t.extra);
  });
}

export function paramDefToJson(p: ParamDef): JsonObject {
  const o: JsonObject = {};
  if (p.value !== undefined) {
    put(o, 'value', p.type === 'MAP' ? paramsToJson(p.value as ParamDefMap) : paramValueToJson(p.value as Exclude<ParamDef['value'], ParamDefMap | undefined>));
  }
  put(o, 'expression', p.expression);
  put(o, 'type', p.type);
  put(o, 'mode', p.mode);
  put(o, 'validator', p.validator);
  if (p.tags) put(o, 'tags', tagsToJson(p.tags));
  return withExtra(o, p.extra);
}

export function paramsToJson(params: ParamDefMap): JsonObject {
  const o: JsonObject = {};
  for (const [k, p] of Object.entries(params)) defineEntry(o, k, paramDefToJson(p));
  return o;
}

export function propertiesToJson(p: Properties): JsonObject {
  const o: JsonObject = {};
  put(o, 'owner', p.ownerDetails ?? p.owner);
  if (p.runStrategy) {
    const rs = p.runStrategy;
    put(o, 'run_strategy', rs.maxConcurrency === undefined && !rs.extra ? rs.rule : withExtra(rs.maxConcurrency === undefined ? { rule: rs.rule } : { rule: rs.rule, workflow_concurrency: rs.maxConcurrency }, rs.extra));
  }
  put(o, 'step_concurrency', p.stepConcurrency);
  put(o, 'signal_trigger_disabled', p.signalTriggerDisabled);
  put(o, 'time_trigger_disabled', p.timeTriggerDisabled);
  if (p.tags) put(o, 'tags', tagsToJson(p.tags));
  return withExtra(o, p.extra);
}

function retryPolicyToJson(rp: RetryPolicy): JsonObject {
  const o: JsonObject = {};
  if (rp.errorRetryLimit !== undefined) put(o, 'error_retry_limit', intSpecToJson(rp.errorRetryLimit));
  if (rp.platformRetryLimit !== undefined) put(o, 'platform_retry_limit', intSpecToJson(rp.platformRetryLimit));
  if (rp.timeoutRetryLimit !== undefined) put(o, 'timeout_retry_limit', intSpecToJson(rp.timeoutRetryLimit));
  if (rp.backoff) {
    const b = rp.backoff;
    const bo: JsonObject = {};
    const pairs = [
      ['error_retry_backoff_in_secs', b.errorRetryBackoffInSecs],
      ['error_retry_exponent', b.errorRetryExponent],
      ['error_retry_limit_in_secs', b.errorRetryLimitInSecs],
      ['platform_retry_backoff_in_secs', b.platformRetryBackoffInSecs],
      ['platform_retry_exponent', b.platformRetryExponent],
      ['platform_retry_limit_in_secs', b.platformRetryLimitInSecs],
      ['timeout_retry_backoff_in_secs', b.timeoutRetryBackoffInSecs],
      ['timeout_retry_exponent', b.timeoutRetryExponent],
      ['timeout_retry_limit_in_secs', b.timeoutRetryLimitInSecs],
    ] as const;
    for (const [k, v] of pairs) if (v !== undefined) put(bo, k, intSpecToJson(v));
    put(bo, 'type', b.type);
    put(o, 'backoff', withExtra(bo, b.extra));
  }
  return withExtra(o, rp.extra);
}

export function stepToJson(s: Step): JsonObject {
  const o: JsonObject = { id: s.id };
  put(o, 'name', s.name);
  put(o, 'description', s.description);
  if (s.kind === 'step') {
    put(o, 'type', s.type);
    put(o, 'sub_type', s.subType);
  }
  if (s.tags.length > 0) put(o, 'tags', tagsToJson(s.tags));
  const params = paramsToJson(s.params);
  if (s.kind === 'foreach' || s.kind === 'while') {
    defineEntry(params, 'loop_params', { value: paramsToJson(s.loopParams), type: 'MAP' });
  }
  if (s.kind === 'subworkflow') {
    defineEntry(params, 'subworkflow_id', paramDefToJson(s.subworkflowId));
    if (s.subworkflowVersion) defineEntry(params, 'subworkflow_version', paramDefToJson(s.subworkflowVersion));
  }
  if (Object.keys(params).length > 0) put(o, 'params', params);
  if (s.kind === 'while') put(o, 'condition', s.condition);
  if (s.kind === 'foreach') {
    put(o, 'concurrency', s.concurrency);
    put(o, 'strict_ordering', s.strictOrdering);
  }
  if (s.kind === 'subworkflow') {
    put(o, 'sync', s.sync);
    put(o, 'explicit_params', s.explicitParams);
  }
  if (s.kind === 'foreach' || s.kind === 'while') put(o, 'steps', s.steps.map(wrapStep));
  const transition: JsonObject = { successors: { ...s.transition.successors } };
  if (Object.keys(s.transition.successors).length > 0 || s.transition.extra) put(o, 'transition', withExtra(transition, s.transition.extra));
  put(o, 'failure_mode', s.failureMode);
  if (s.timeout) put(o, 'timeout', durationSpecToJson(s.timeout));
  if (s.kind === 'step' && s.retryPolicy) put(o, 'retry_policy', retryPolicyToJson(s.retryPolicy));
  if (s.signalDependencies.length > 0) {
    put(
      o,
      'signal_dependencies',
      s.signalDependencies.map((d) => {
        const mp: JsonObject = {};
        for (const [k, m] of Object.entries(d.matchParams)) defineEntry(mp, k, withExtra({ param: paramDefToJson(m.param), operator: m.operator }, m.extra));
        return withExtra({ name: d.name, match_params: mp }, d.extra);
      }),
    );
  }
  if (s.signalOutputs.length > 0) {
    put(
      o,
      'signal_outputs',
      s.signalOutputs.map((so) => {
        const x: JsonObject = { name: so.name, params: paramsToJson(so.params) };
        put(x, 'payload', so.payload);
        return withExtra(x, so.extra);
      }),
    );
  }
  return withExtra(o, s.extra);
}

export function wrapStep(s: Step): JsonObject {
  return { [s.kind]: stepToJson(s) };
}

function timeTriggerToJson(t: TimeTrigger): JsonObject {
  const o: JsonObject = { type: t.type };
  if (t.type === 'CRON') put(o, 'cron', t.cron);
  if (t.type === 'PREDEFINED') put(o, 'expression', t.expression);
  if (t.type === 'INTERVAL') {
    put(o, 'interval', t.interval);
    put(o, 'start', t.start);
  } else {
    put(o, 'timezone', t.timezone);
    if (t.fuzzyMaxDelay) put(o, 'fuzzy_max_delay', durationSpecToJson(t.fuzzyMaxDelay));
  }
  return withExtra(o, t.extra);
}

function signalTriggerToJson(t: SignalTrigger): JsonObject {
  const defs: JsonObject = {};
  for (const [name, d] of Object.entries(t.definitions)) {
    const mp: JsonObject = {};
    for (const [k, m] of Object.entries(d.matchParams)) defineEntry(mp, k, withExtra({ value: m.value, operator: m.operator }, m.extra));
    defineEntry(defs, name, withExtra({ match_params: mp, join_keys: [...d.joinKeys] }, d.extra));
  }
  const o: JsonObject = { definitions: defs };
  put(o, 'condition', t.condition);
  put(o, 'dedup_expr', t.dedupExpr);
  if (Object.keys(t.params).length > 0) put(o, 'params', paramsToJson(t.params));
  return withExtra(o, t.extra);
}

export function workflowToJson(w: Workflow): JsonObject {
  const o: JsonObject = { id: w.id };
  put(o, 'name', w.name);
  put(o, 'description', w.description);
  if (w.tags.length > 0) put(o, 'tags', tagsToJson(w.tags));
  if (w.timeout) put(o, 'timeout', durationSpecToJson(w.timeout));
  if (Object.keys(w.params).length > 0) put(o, 'params', paramsToJson(w.params));
  if (w.timeTriggers.length > 0) put(o, 'time_triggers', w.timeTriggers.map(timeTriggerToJson));
  if (w.signalTriggers.length > 0) put(o, 'signal_triggers', w.signalTriggers.map(signalTriggerToJson));
  put(o, 'steps', w.steps.map(wrapStep));
  return withExtra(o, w.extra);
}

export function requestToJson(r: WorkflowRequest): JsonObject {
  const o: JsonObject = {};
  if (r.properties) put(o, 'properties', propertiesToJson(r.properties));
  put(o, 'workflow', workflowToJson(r.workflow));
  put(o, 'is_active', r.isActive);
  return withExtra(o, r.extra);
}
