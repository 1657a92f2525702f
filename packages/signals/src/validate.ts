import { paramsInstanceId } from './canonical.js';
import { SignalValidationError, type FieldError } from './errors.js';
import { JsonText, MAX_JSON_NESTING, nestingBeyond, parseJson, storableVerbatim } from './json.js';
import { MAX_BATCH, MAX_NAME_LENGTH, type ParamValue, type SignalParams } from './model.js';

/** A validated signal ready to store. */
export interface NormalizedSignal {
  name: string;
  params: SignalParams;
  payload: unknown;
  /**
   * The payload as JSON text, when it came as text (a Kafka message value): stored as is, and
   * `payload` parses it again only when read (outbound events).
   */
  payloadJson?: string;
  requestId?: string;
  requestTime?: number | bigint;
  instanceId: string;
}

/** A signal whose payload is kept as its JSON text: nothing holds the parsed tree meanwhile. */
class TextPayloadSignal implements NormalizedSignal {
  constructor(
    readonly name: string,
    readonly params: SignalParams,
    readonly payloadJson: string,
    readonly requestId: string | undefined,
    readonly requestTime: number | bigint | undefined,
    readonly instanceId: string,
  ) {}

  get payload(): unknown {
    return parseJson(this.payloadJson);
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const KNOWN_FIELDS = new Set(['name', 'params', 'payload', 'request_id', 'request_time']);
const NO_EXTRAS: string[] = [];
// C0 and C1 control characters and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// PostgreSQL text and jsonb cannot hold U+0000, and a lone surrogate has no UTF-8 form: either
// makes the insert fail, so it is refused here for every source (REST, Kafka, SNS, step outputs).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why PostgreSQL cannot store `s` (a NUL or an unpaired surrogate), or undefined. */
export function unstorableProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000)';
  const m = LONE_SURROGATE.exec(s);
  if (m) return `contains an unpaired surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()})`;
  return undefined;
}

/**
 * What makes a JSON value unstorable, found in one walk: nesting deeper than MAX_JSON_NESTING, or a
 * string or key PostgreSQL cannot store. A stack, not recursion: a hostile payload may nest deeper
 * than the call stack goes.
 */
function payloadTrouble(value: unknown): 'deep' | 'unstorable' | undefined {
  const stack: unknown[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const v = stack.pop();
    const d = depths.pop()!;
    if (typeof v === 'string') {
      if (unstorableProblem(v) !== undefined) return 'unstorable';
    } else if (typeof v === 'object' && v !== null) {
      if (d >= MAX_JSON_NESTING) return 'deep';
      if (Array.isArray(v)) {
        for (const x of v) {
          stack.push(x);
          depths.push(d + 1);
        }
      } else {
        for (const k in v) {
          if (unstorableProblem(k) !== undefined) return 'unstorable';
          stack.push((v as Record<string, unknown>)[k]);
          depths.push(d + 1);
        }
      }
    }
  }
  return undefined;
}

/**
 * Field path of the first string or key in a JSON value PostgreSQL cannot store, with the problem.
 * Paths are built only for a value that holds one: every signal's payload passes through here.
 */
function unstorableIn(value: unknown, field: string): FieldError | undefined {
  const trouble = payloadTrouble(value);
  if (trouble === undefined) return undefined;
  if (trouble === 'deep') return { field, message: `nesting deeper than ${MAX_JSON_NESTING}` };
  const stack: Array<[unknown, string]> = [[value, field]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = unstorableProblem(v);
      if (problem) return { field: at, message: problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v as Record<string, unknown>);
      for (const [k] of entries) {
        const problem = unstorableProblem(k);
        if (problem) return { field: at, message: `key ${JSON.stringify(k)} ${problem}` };
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i]![1], `${at}.${entries[i]![0]}`]);
    }
  }
  return undefined;
}

/** A payload kept as text that nests deeper than MAX_JSON_NESTING, with the character. */
function textTooDeep(text: string, field: string): FieldError | undefined {
  const at = nestingBeyond(text, MAX_JSON_NESTING);
  return at === undefined ? undefined : { field, message: `nesting deeper than ${MAX_JSON_NESTING} at character ${at + 1}` };
}

/** Checks a signal name; returns the problem or undefined. Names are path-like: `db/prod/orders`. */
export function nameProblem(name: unknown): string | undefined {
  if (name === undefined || name === null) return 'is required';
  if (typeof name !== 'string') return 'must be a string';
  if (GOOD_NAMES.has(name)) return undefined;
  const problem = checkName(name);
  if (problem === undefined) remember(GOOD_NAMES, name);
  return problem;
}

/**
 * Names and param names found valid lately: a stream of signals repeats a few names (and each
 * name's few param names), so each is checked once rather than for every signal. Bounded: once
 * full, the set starts over.
 */
const GOOD_NAMES = new Set<string>();
const GOOD_PARAM_NAMES = new Set<string>();
const REMEMBERED = 10_000;

function remember(set: Set<string>, s: string): void {
  if (set.size >= REMEMBERED) set.clear();
  set.add(s);
}

function checkName(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters (got ${name.length})`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  const unstorable = unstorableProblem(name);
  if (unstorable) return unstorable;
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'must not have empty path segments (leading, trailing or doubled "/")';
  return undefined;
}

function isIntegerValue(v: unknown): v is number | bigint {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}

/** Validates params (strings and 64-bit integers); pushes problems under `field`. */
export function validateParams(raw: unknown, field: string, errors: FieldError[]): SignalParams {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push({ field, message: 'must be an object of param name to string or integer' });
    return {};
  }
  const out: SignalParams = {};
  const rec = raw as Record<string, unknown>;
  for (const key in rec) {
    if (!Object.prototype.hasOwnProperty.call(rec, key)) continue;
    const v = rec[key];
    if (GOOD_PARAM_NAMES.has(key)) {
      // The common cases: a known param name, a safe integer (without a BigInt round trip, which
      // also turns -0 into 0) or a string with nothing PostgreSQL cannot store.
      if (typeof v === 'number' && Number.isSafeInteger(v)) {
        out[key] = v === 0 ? 0 : v;
        continue;
      }
      if (typeof v === 'string' && unstorableProblem(v) === undefined) {
        out[key] = v;
        continue;
      }
    }
    const keyProblem = unstorableProblem(key);
    if (key.length === 0) {
      errors.push({ field, message: 'param names must not be empty' });
    } else if (keyProblem) {
      errors.push({ field, message: `param name ${JSON.stringify(key)} ${keyProblem}` });
    } else if (typeof v === 'string') {
      remember(GOOD_PARAM_NAMES, key);
      const problem = unstorableProblem(v);
      if (problem) errors.push({ field: `${field}.${key}`, message: problem });
      else out[key] = v;
    } else if (isIntegerValue(v)) {
      remember(GOOD_PARAM_NAMES, key);
      const b = BigInt(v);
      if (b < INT64_MIN || b > INT64_MAX) errors.push({ field: `${field}.${key}`, message: 'integer is outside the 64-bit range' });
      else out[key] = normalizeInt(b);
    } else {
      errors.push({ field: `${field}.${key}`, message: 'must be a string or an integer' });
    }
  }
  return out;
}

/** Integers are numbers when safe and bigint beyond, everywhere in this package. */
export function normalizeInt(b: bigint): ParamValue {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function normalizeOne(raw: unknown, field: string, errors: FieldError[]): NormalizedSignal | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push({ field, message: 'must be an object with a name and params' });
    return undefined;
  }
  const rec = raw as Record<string, unknown>;
  const before = errors.length;
  const problem = nameProblem(rec.name);
  if (problem) errors.push({ field: `${field}.name`, message: problem });
  const params = validateParams(rec.params, `${field}.params`, errors);

  let requestId: string | undefined;
  if (rec.request_id !== undefined && rec.request_id !== null) {
    if (typeof rec.request_id !== 'string' || rec.request_id.length === 0 || rec.request_id.length > MAX_NAME_LENGTH) {
      errors.push({ field: `${field}.request_id`, message: `must be a non-empty string of at most ${MAX_NAME_LENGTH} characters` });
    } else {
      const problem = unstorableProblem(rec.request_id);
      if (problem) errors.push({ field: `${field}.request_id`, message: problem });
      else requestId = rec.request_id;
    }
  }
  let requestTime: number | bigint | undefined;
  if (rec.request_time !== undefined && rec.request_time !== null) {
    if (!isIntegerValue(rec.request_time)) errors.push({ field: `${field}.request_time`, message: 'must be an integer (epoch milliseconds)' });
    else if (BigInt(rec.request_time) < INT64_MIN || BigInt(rec.request_time) > INT64_MAX) {
      errors.push({ field: `${field}.request_time`, message: 'integer is outside the 64-bit range (epoch milliseconds)' });
    } else requestTime = rec.request_time;
  }

  // The fields besides the known ones (they go into the payload); no list is made when there are none.
  let extras: string[] = NO_EXTRAS;
  for (const k in rec) if (!KNOWN_FIELDS.has(k) && Object.prototype.hasOwnProperty.call(rec, k)) (extras === NO_EXTRAS ? (extras = []) : extras).push(k);
  let payload: unknown = rec.payload ?? null;
  let payloadJson: string | undefined;
  if (payload instanceof JsonText) {
    // Kept as text unless it is JSON null (no payload), other fields merge into it, or the text
    // may hold what the checks below refuse or PostgreSQL reads otherwise (then it is re-serialised).
    if (payload.value !== null && payload.value !== undefined && extras.length === 0 && storableVerbatim(payload.text)) payloadJson = payload.text;
    payload = payload.value ?? null;
  }
  if (extras.length > 0) {
    if (payload !== null && (typeof payload !== 'object' || Array.isArray(payload))) {
      errors.push({ field: `${field}.payload`, message: `must be an object when the request also carries other fields (${extras.join(', ')})` });
    } else {
      const merged: Record<string, unknown> = { ...(payload as Record<string, unknown> | null) };
      for (const k of extras) merged[k] = rec[k];
      payload = merged;
    }
  }
  const unstorable = payloadJson !== undefined ? textTooDeep(payloadJson, `${field}.payload`) : unstorableIn(payload, `${field}.payload`);
  if (unstorable) errors.push(unstorable);
  if (errors.length > before) return undefined;
  const name = rec.name as string;
  const instanceId = requestId ?? paramsInstanceId(name, params);
  if (payloadJson !== undefined) return new TextPayloadSignal(name, params, payloadJson, requestId, requestTime, instanceId);
  return { name, params, payload, requestId, requestTime, instanceId };
}

/** Validates one signal; throws SignalValidationError listing its problems under `field`. */
export function normalizeSignal(raw: unknown, field: string): NormalizedSignal {
  const errors: FieldError[] = [];
  const s = normalizeOne(raw, field, errors);
  if (!s) throw new SignalValidationError(errors);
  return s;
}

/**
 * Validates a batch as a whole: any problem rejects the batch (nothing is stored) and the error
 * lists every problem with its field path.
 */
export function normalizeBatch(raw: readonly unknown[], fieldPrefix = 'signals'): NormalizedSignal[] {
  if (raw.length === 0) throw new SignalValidationError([{ field: fieldPrefix, message: 'must hold at least one signal' }]);
  if (raw.length > MAX_BATCH) {
    throw new SignalValidationError([{ field: fieldPrefix, message: `must hold at most ${MAX_BATCH} signals (got ${raw.length})` }]);
  }
  const errors: FieldError[] = [];
  const out: NormalizedSignal[] = [];
  raw.forEach((r, i) => {
    const s = normalizeOne(r, `${fieldPrefix}[${i}]`, errors);
    if (s) out.push(s);
  });
  if (errors.length > 0) throw new SignalValidationError(errors);
  return out;
}
