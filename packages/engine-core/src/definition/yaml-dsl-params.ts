import { isObject } from './from-json.js';
import type { JsonObject, JsonValue, ParamType } from './model.js';
import { defineEntry, parseParamType } from '../params/typed-value.js';
import { PARAM_MODES } from './model.js';
import type { DslWhere } from './yaml-dsl-where.js';

/**
 * The param forms of Maestro's YAML DSL (its `ParamParser`), turned into Maestro's JSON param
 * definitions. A key is `name`, `!name` (the value is SEL), `name<type>`, `name(mode)` or any
 * combination (`'!name<long>(constant)'`). Without a type, a literal's type follows its value
 * and an expression is a STRING. A type given with a literal must agree with the value's type
 * (a `<pmap>` may hold a map of strings). Baton also reads the hints `int`, `integer`, `float`,
 * `bool`, `str` and `long[]`-style arrays.
 */

export type DslErr = (where: DslWhere, message: string) => void;

const HINTS: Record<string, ParamType> = {
  MAP: 'STRING_MAP', PMAP: 'MAP',
  INT: 'LONG', INTEGER: 'LONG', FLOAT: 'DOUBLE', BOOL: 'BOOLEAN', STR: 'STRING',
  'STRING[]': 'STRING_ARRAY', 'LONG[]': 'LONG_ARRAY', 'INT[]': 'LONG_ARRAY', 'DOUBLE[]': 'DOUBLE_ARRAY', 'BOOLEAN[]': 'BOOLEAN_ARRAY',
};
const ARRAY_OF: Record<string, ParamType> = { STRING: 'STRING_ARRAY', LONG: 'LONG_ARRAY', DOUBLE: 'DOUBLE_ARRAY', BOOLEAN: 'BOOLEAN_ARRAY' };

export interface DslParamKey {
  name: string;
  expression: boolean;
  type?: ParamType;
  mode?: string;
}

/** Reads a DSL param key; throws an Error whose message says what is wrong. */
export function readParamKey(key: string): DslParamKey {
  let rest = key.trim();
  const expression = rest.startsWith('!');
  if (expression) rest = rest.slice(1).trim();
  let mode: string | undefined;
  const open = rest.lastIndexOf('(');
  const close = rest.lastIndexOf(')');
  if (open > 0 && close > open) {
    const text = rest.slice(open + 1, close).trim();
    const upper = text.toUpperCase();
    if (!(PARAM_MODES as readonly string[]).includes(upper)) {
      throw new Error(`unknown param mode (${text}); use one of ${PARAM_MODES.map((m) => m.toLowerCase()).join(', ')}`);
    }
    mode = upper;
    rest = rest.slice(0, open).trim();
  }
  let type: ParamType | undefined;
  const lt = rest.indexOf('<');
  const gt = rest.lastIndexOf('>');
  if (lt > 0 && gt > lt) {
    const text = rest.slice(lt + 1, gt).trim();
    type = typeHint(text);
    rest = rest.slice(0, lt).trim();
  }
  if (rest === '' || /[<>()!]/.test(rest)) throw new Error(`cannot read param key "${key}": expected name, !name, name<type>, name(mode) or !name<type>(mode)`);
  const out: DslParamKey = { name: rest, expression };
  if (type) out.type = type;
  if (mode) out.mode = mode;
  return out;
}

function typeHint(text: string): ParamType {
  const upper = text.toUpperCase().replace(/\s+/g, '');
  const array = /^ARRAY<(.*)>$/.exec(upper);
  if (array) {
    const t = ARRAY_OF[array[1] as string];
    if (!t) throw new Error(`unsupported type <${text}>: array elements are string, long, double or boolean`);
    return t;
  }
  const t = HINTS[upper] ?? parseParamType(upper);
  if (!t) throw new Error(`unknown type hint <${text}>; use string, long, double, boolean, array<...>, map (a string map), pmap (a param map) or a Maestro param type`);
  return t;
}

/** The type a literal implies (Maestro's rule); undefined for an empty list. */
export function impliedType(v: JsonValue): ParamType | undefined {
  if (typeof v === 'string') return 'STRING';
  if (typeof v === 'bigint') return 'LONG';
  if (typeof v === 'number') return 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    const first = impliedType(v[0] as JsonValue);
    const t = first && ARRAY_OF[first];
    if (!t) throw new Error('a list param holds strings, whole numbers, numbers or booleans');
    return t;
  }
  if (isObject(v)) {
    const values = Object.values(v);
    return values.length > 0 && values.every((x) => typeof x === 'string') ? 'STRING_MAP' : 'MAP';
  }
  throw new Error('has no value');
}

/**
 * One DSL param → a JSON param definition put into `into` under its clean name. Literal
 * integers must arrive as bigint and other numbers as number, so LONG and DOUBLE differ.
 */
export function dslParam(key: string, v: JsonValue, where: DslWhere, into: JsonObject, err: DslErr): void {
  let k: DslParamKey;
  try {
    k = readParamKey(key);
  } catch (e) {
    err(where, (e as Error).message);
    return;
  }
  if (v === null) {
    err(where, `has no value (param ${k.name})`);
    return;
  }
  if (Object.hasOwn(into, k.name)) {
    err(where, `defines param ${k.name} a second time`);
    return;
  }
  const def: JsonObject = {};
  if (k.expression) {
    if (typeof v === 'object') {
      err(where, `a "!" param is a SEL expression and must be a string, got ${Array.isArray(v) ? 'a list' : 'a map'}`);
      return;
    }
    def.expression = String(v);
    def.type = k.type ?? 'STRING';
  } else {
    let implied: ParamType | undefined;
    try {
      implied = impliedType(v);
    } catch (e) {
      err(where, (e as Error).message);
      return;
    }
    const type = k.type ?? implied ?? 'STRING_ARRAY';
    if (k.type && implied && k.type !== implied && !(k.type === 'MAP' && implied === 'STRING_MAP')) {
      err(where, `the type ${k.type} given for param ${k.name} does not match its value, a ${implied}`);
      return;
    }
    def.type = type;
    if (type === 'MAP' && isObject(v)) def.value = dslParams(v, where, err);
    else def.value = v;
  }
  if (k.mode) def.mode = k.mode;
  defineEntry(into, k.name, def);
}

/** A map of DSL params → a map of JSON param definitions. */
export function dslParams(obj: JsonObject, where: DslWhere, err: DslErr): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) dslParam(k, v, where.key(k), out, err);
  return out;
}
