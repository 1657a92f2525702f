/** Reading param definitions (and tags, which params and workflows share) from Maestro's JSON. */
import { fieldPath } from './issues.js';
import { PARAM_MODES, type JsonValue, type ParamDef, type ParamDefMap, type ParamLiteral, type ParamMode, type Tag } from './model.js';
import { defineEntry, jsonToParamValue, parseParamType } from '../params/typed-value.js';
import { JsonFields, kindOf } from './json-fields.js';

export class ParamReader extends JsonFields {
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
  protected literal(type: NonNullable<ParamDef['type']>, v: JsonValue, path: string): ParamLiteral | undefined {
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
}
