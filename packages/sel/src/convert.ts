import { SelError, limitError, runtimeError } from './errors.js';
import type { HostContext } from './host-context.js';
import { SelArray, isHostObject, newArray, typeOf, type ElementType, type Value } from './runtime/values.js';

/** Deepest nesting of input data accepted (deeper data is refused, never a stack overflow). */
export const MAX_DATA_DEPTH = 256;
const DEPTH_DETAIL = 'the value nests deeper than that, or contains itself';

/**
 * Copies a host value into a fresh SEL value: SEL values are deep-copied (arrays and maps), and
 * JSON-like data is converted (whole numbers → LONG, other numbers → DOUBLE, arrays → typed
 * arrays, objects → maps). Anything else (functions, symbols, mixed arrays...) is refused.
 * When `host` is given, the copy is charged against the evaluation's memory and array limits.
 */
export interface ImportMode {
  /** JSON-like data: whole JS numbers are LONG. Otherwise a JS number is always a DOUBLE. */
  wholeNumbersAreLong: boolean;
  host?: HostContext;
}

const SEL_VALUES: ImportMode = { wholeNumbersAreLong: false };
const JSON_DATA: ImportMode = { wholeNumbersAreLong: true };

export function importValue(v: unknown, mode: ImportMode = SEL_VALUES, depth = 0): Value {
  const host = mode.host;
  if (depth > MAX_DATA_DEPTH) throw limitError('data nesting depth', MAX_DATA_DEPTH, DEPTH_DETAIL);
  switch (typeof v) {
    case 'bigint':
      return BigInt.asIntN(64, v);
    case 'number':
      return mode.wholeNumbersAreLong && Number.isSafeInteger(v) && !Object.is(v, -0) ? BigInt(v) : v;
    case 'string':
      host?.checkStringLength(v.length);
      return v;
    case 'boolean':
      return v;
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw runtimeError(`cannot use a JavaScript ${typeof v} as a SEL value`);
  }
  if (v === null) return null;
  if (v instanceof SelArray) {
    host?.checkArrayLength(v.items.length);
    host?.chargeMemory(v.items.length);
    return newArray(v.elementType, v.items.map((x) => importValue(x, mode, depth + 1)));
  }
  if (v instanceof Map) {
    host?.chargeMemory(v.size);
    const out = new Map<string, Value>();
    for (const [k, x] of v) {
      if (typeof k !== 'string') throw runtimeError(`map keys must be STRING, got ${typeof k}`);
      if (x === null || x === undefined) throw runtimeError(`map entry '${k}' is null; SEL maps cannot hold null values from the host`);
      out.set(k, importValue(x, mode, depth + 1));
    }
    return out;
  }
  if (Array.isArray(v)) return importList(v, mode, depth);
  if (isHostObject(v)) return v;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw runtimeError(`cannot use a JavaScript ${(v as object).constructor?.name ?? 'object'} as a SEL value`);
  }
  const keys = Object.keys(v);
  host?.chargeMemory(keys.length);
  const out = new Map<string, Value>();
  for (const k of keys) {
    const x = (v as Record<string, unknown>)[k];
    if (x === null || x === undefined) throw runtimeError(`map entry '${k}' is null; SEL maps cannot hold null values from the host`);
    out.set(k, importValue(x, mode, depth + 1));
  }
  return out;
}

function importList(list: readonly unknown[], mode: ImportMode, depth: number): SelArray {
  mode.host?.checkArrayLength(list.length);
  mode.host?.chargeMemory(list.length);
  let hasString = false, hasBool = false, hasDouble = false, hasLong = false;
  for (const x of list) {
    if (typeof x === 'string' || x === null) hasString = true;
    else if (typeof x === 'boolean') hasBool = true;
    else if (typeof x === 'bigint') hasLong = true;
    else if (typeof x === 'number') {
      if (mode.wholeNumbersAreLong && Number.isSafeInteger(x) && !Object.is(x, -0)) hasLong = true;
      else hasDouble = true;
    } else throw runtimeError(`arrays may hold only STRING, LONG, DOUBLE or BOOLEAN elements, got ${describeJs(x)}`);
  }
  const kinds = Number(hasString) + Number(hasBool) + Number(hasDouble || hasLong);
  if (kinds > 1) throw runtimeError('an array must not mix strings, numbers and booleans');
  const et: ElementType = hasBool ? 'BOOLEAN' : hasDouble ? 'DOUBLE' : hasLong ? 'LONG' : 'STRING';
  void depth;
  const items = list.map((x): Value => {
    if (et === 'LONG') return typeof x === 'number' ? BigInt(x) : BigInt.asIntN(64, x as bigint);
    if (et === 'DOUBLE') return Number(x);
    return x as Value;
  });
  return newArray(et, items);
}

function describeJs(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a nested array';
  return typeof x === 'object' ? 'an object' : typeof x;
}

/** JSON-like data (as from JSON.parse) to a SEL value: whole numbers LONG, others DOUBLE. */
export function fromJson(v: unknown): Value {
  return importValue(v, JSON_DATA);
}

/** Converts input variables given as JSON-like data to SEL values, one entry per name. */
export function varsFromJson(obj: Readonly<Record<string, unknown>>): Record<string, Value> {
  const out: Record<string, Value> = Object.create(null) as Record<string, Value>;
  for (const k of Object.keys(obj)) out[k] = importValue(obj[k], JSON_DATA);
  return out;
}

export interface ToJsonOptions {
  /** LONGs outside ±2^53 become decimal strings (default); with false they stay bigint. */
  bigAsString?: boolean;
}

/**
 * A SEL value as JSON-ready data: LONG → number (or a decimal string beyond ±2^53), DOUBLE →
 * number (non-finite → string), arrays → arrays, maps → objects, host objects → their text.
 */
export function toJson(v: Value | undefined, options: ToJsonOptions = {}, depth = 0): unknown {
  if (depth > MAX_DATA_DEPTH) throw limitError('data nesting depth', MAX_DATA_DEPTH, DEPTH_DETAIL);
  switch (typeof v) {
    case 'bigint':
      if (v >= -9007199254740991n && v <= 9007199254740991n) return Number(v);
      return options.bigAsString === false ? v : v.toString();
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'undefined':
      return null;
    case 'string':
    case 'boolean':
      return v;
    default:
      if (v === null) return null;
      if (v instanceof SelArray) return v.items.map((x) => toJson(x as Value, options, depth + 1));
      if (v instanceof Map) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of v) Object.defineProperty(out, k, { value: toJson(x, options, depth + 1), enumerable: true, writable: true, configurable: true });
        return out;
      }
      return String(v);
  }
}

/** Checks a result can be handed to a workflow (JSON-able, maps without nulls), as Maestro requires. */
export function checkWorkflowResult(v: Value | undefined, depth = 0): void {
  if (depth > MAX_DATA_DEPTH) throw limitError('data nesting depth', MAX_DATA_DEPTH, DEPTH_DETAIL);
  if (v === undefined || v === null || typeof v !== 'object') return;
  if (v instanceof SelArray) return;
  if (v instanceof Map) {
    for (const [k, x] of v) {
      if (x === null) throw new SelError('type', `unsupported result: map entry '${k}' is NULL`);
      checkWorkflowResult(x, depth + 1);
    }
    return;
  }
  throw new SelError('type', `unsupported result type ${typeOf(v)}: a workflow parameter must be a STRING, LONG, DOUBLE, BOOLEAN, an array or a MAP`);
}
