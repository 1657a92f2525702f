import { PARAM_TYPES, type JsonValue, type ParamType, type ParamValue, type ParamValueMap } from '../definition/model.js';

export const LONG_MIN = -(2n ** 63n);
export const LONG_MAX = 2n ** 63n - 1n;

/** A value that does not fit its declared param type; the message says what was expected. */
export class ParamTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParamTypeError';
  }
}

/** `"long"`, `"String_array"`, `"LONG"` → ParamType (Maestro accepts any case); undefined if unknown. */
export function parseParamType(text: string): ParamType | undefined {
  const upper = text.trim().toUpperCase();
  return (PARAM_TYPES as readonly string[]).includes(upper) ? (upper as ParamType) : undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'bigint') return `the number ${v}`;
  return `${typeof v === 'boolean' ? 'the boolean' : 'the number'} ${String(v)}`;
}

/** An exact signed 64-bit integer from a JSON number, bigint or integer text. */
export function toLong(v: unknown): bigint {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ParamTypeError(`expected a whole number (LONG), got ${describe(v)}`);
    if (!Number.isSafeInteger(v)) {
      // A double this large has already lost digits; refuse rather than guess.
      throw new ParamTypeError(`the number ${v} is not exact; write LONG values beyond 2^53 as integer literals`);
    }
    n = BigInt(v);
  } else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) n = BigInt(v.trim());
  else throw new ParamTypeError(`expected a whole number (LONG), got ${describe(v)}`);
  if (n < LONG_MIN || n > LONG_MAX) throw new ParamTypeError(`${n} is outside the 64-bit LONG range`);
  return n;
}

export function toDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new ParamTypeError(`expected a number (DOUBLE), got ${describe(v)}`);
}

export function toBoolean(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw new ParamTypeError(`expected true or false (BOOLEAN), got ${describe(v)}`);
}

/** Scalars become their text (as Maestro's JSON reader coerces them); arrays and objects are refused. */
export function toStringValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  throw new ParamTypeError(`expected a string, got ${describe(v)}`);
}

function toArray<T>(v: unknown, each: (x: unknown) => T, what: string): T[] {
  if (!Array.isArray(v)) throw new ParamTypeError(`expected an array of ${what}, got ${describe(v)}`);
  return v.map((x, i) => {
    try {
      return each(x);
    } catch (e) {
      throw new ParamTypeError(`element [${i}]: ${(e as Error).message}`);
    }
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The type a bare JSON value would have: used for YAML literals and MAP entries without a type. */
export function inferParamType(v: unknown): ParamType {
  if (typeof v === 'string') return 'STRING';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return 'LONG';
  if (typeof v === 'number') return 'DOUBLE';
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => typeof x === 'boolean')) return 'BOOLEAN_ARRAY';
    if (v.length > 0 && v.every((x) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x)))) return 'LONG_ARRAY';
    if (v.length > 0 && v.every((x) => typeof x === 'number' || typeof x === 'bigint')) return 'DOUBLE_ARRAY';
    return 'STRING_ARRAY';
  }
  if (isPlainObject(v)) {
    return Object.values(v).every((x) => typeof x === 'string') ? 'STRING_MAP' : 'MAP';
  }
  throw new ParamTypeError(`cannot infer a param type for ${describe(v)}`);
}

/**
 * A JSON value → the typed value of a param of `type` (LONG as exact bigint). MAP here is an
 * evaluated map (values typed by inference), not a definition's map of nested param definitions.
 */
export function jsonToParamValue(type: ParamType, v: unknown): ParamValue {
  switch (type) {
    case 'STRING':
      return toStringValue(v);
    case 'LONG':
      return toLong(v);
    case 'DOUBLE':
      return toDouble(v);
    case 'BOOLEAN':
      return toBoolean(v);
    case 'STRING_ARRAY':
      return toArray(v, toStringValue, 'strings');
    case 'LONG_ARRAY':
      return toArray(v, toLong, 'whole numbers');
    case 'DOUBLE_ARRAY':
      return toArray(v, toDouble, 'numbers');
    case 'BOOLEAN_ARRAY':
      return toArray(v, toBoolean, 'booleans');
    case 'STRING_MAP': {
      if (!isPlainObject(v)) throw new ParamTypeError(`expected an object of strings (STRING_MAP), got ${describe(v)}`);
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === null) throw new ParamTypeError(`key "${k}": expected a string, got null`);
        try {
          defineEntry(out, k, toStringValue(x));
        } catch (e) {
          throw new ParamTypeError(`key "${k}": ${(e as Error).message}`);
        }
      }
      return out;
    }
    case 'MAP': {
      if (!isPlainObject(v)) throw new ParamTypeError(`expected an object (MAP), got ${describe(v)}`);
      const out: ParamValueMap = {};
      for (const [k, x] of Object.entries(v)) {
        try {
          defineEntry(out, k, jsonToParamValue(inferParamType(x), x));
        } catch (e) {
          throw new ParamTypeError(`key "${k}": ${(e as Error).message}`);
        }
      }
      return out;
    }
    default:
      throw new ParamTypeError(`unknown param type ${JSON.stringify(type)}; use ${PARAM_TYPES.join(', ')}`);
  }
}

/** Typed value → JSON: LONGs within ±2^53 as numbers, beyond as bigint (written exactly). */
export function paramValueToJson(v: ParamValue): JsonValue {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
  if (Array.isArray(v)) return (v as ParamValue[]).map(paramValueToJson);
  if (typeof v === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) defineEntry(out, k, paramValueToJson(x));
    return out;
  }
  return v;
}

/** Does the typed value belong to the type? (For values computed at run time.) */
export function valueMatchesType(type: ParamType, v: ParamValue): boolean {
  switch (type) {
    case 'STRING':
      return typeof v === 'string';
    case 'LONG':
      return typeof v === 'bigint';
    case 'DOUBLE':
      return typeof v === 'number';
    case 'BOOLEAN':
      return typeof v === 'boolean';
    case 'STRING_ARRAY':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'LONG_ARRAY':
      return Array.isArray(v) && v.every((x) => typeof x === 'bigint');
    case 'DOUBLE_ARRAY':
      return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'BOOLEAN_ARRAY':
      return Array.isArray(v) && v.every((x) => typeof x === 'boolean');
    case 'STRING_MAP':
      return isPlainObject(v) && Object.values(v).every((x) => typeof x === 'string');
    case 'MAP':
      return isPlainObject(v);
  }
}

/** Sets a key as data even when it is "__proto__". */
export function defineEntry<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
