/** Reading a workflow's time and signal triggers from Maestro's JSON. */
import { fieldPath } from './issues.js';
import type { JsonValue, SignalTrigger, TimeTrigger } from './model.js';
import { defineEntry } from '../params/typed-value.js';
import { ParamReader } from './read-params.js';
import { kindOf } from './json-fields.js';

export class TriggerReader extends ParamReader {
  protected timeTrigger(v: JsonValue, path: string): TimeTrigger | undefined {
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

  protected signalTrigger(v: JsonValue, path: string): SignalTrigger | undefined {
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
}
