import { fieldPath } from './issues.js';
import { RUN_STRATEGY_RULES, type JsonObject, type JsonValue, type Properties, type RunStrategy, type RunStrategyRule, type SignalTrigger, type TimeTrigger, type Workflow, type WorkflowRequest } from './model.js';
import { StepReader } from './read-steps.js';
import { isObject } from './json-fields.js';

export { isObject, type ParseResult } from './json-fields.js';

/**
 * Reads Maestro's JSON shapes into the model, collecting every problem with its field path.
 * Used for JSON requests and, after the YAML DSL is rewritten into the same shapes, for YAML.
 */
export class MaestroReader extends StepReader {
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
    // Maestro's owner is a User: a name, or an object {name, ...} (kept as given). Its name must be
    // given and a string; Maestro accepts any string, even an empty one, and so does Baton.
    const ownerObj = isObject(obj.owner) ? obj.owner : undefined;
    const owner = ownerObj ? this.str(ownerObj, 'name', fieldPath(path, 'owner')) : this.str(obj, 'owner', path);
    if (ownerObj && (ownerObj.name === undefined || ownerObj.name === null)) this.err(fieldPath(path, 'owner.name'), 'is required');
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

  protected runStrategy(v: JsonValue | undefined, path: string): RunStrategy | undefined {
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
}
