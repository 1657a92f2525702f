import { createHash } from 'node:crypto';
import { JsonText, parseJson } from '../json.js';
import { MAX_NAME_LENGTH, type PublishInput } from '../model.js';

/**
 * Where a mapped value comes from: a fixed value, a message header (Kafka header, SNS message
 * attribute) or a field of the JSON message body (dot path; digits index arrays: `items.0.id`).
 */
export type ValueSource = { value: string | number } | { header: string } | { field: string };

/** A mapped param; `optional` params are left out when their source is absent instead of failing. */
export type ParamSource = ValueSource & { optional?: boolean };

/** What the signal's payload is: the whole message body, one field of it, or nothing. */
export type PayloadSource = 'message' | 'none' | { field: string };

export interface SignalMapping {
  name: ValueSource;
  params: Record<string, ParamSource>;
  payload: PayloadSource;
}

/** The parts of an incoming message the mapping reads. `body` is undefined when it is not JSON. */
export interface MappableMessage {
  body: unknown;
  headers: Readonly<Record<string, string | undefined>>;
  /** The text `body` was parsed from, if the caller has it: a whole-message payload is stored as this text. */
  text?: string;
}

/** A message that cannot become a signal; `reason` says why (it goes to the dead-letter topic). */
export class MappingError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MappingError';
  }
}

/** Reads a dot path from a JSON value; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const seg of pathSegments(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return cur;
}

/** Paths come from the configuration, so a few are read for every message: split each once. */
const SEGMENTS = new Map<string, readonly string[]>();

function pathSegments(path: string): readonly string[] {
  let segs = SEGMENTS.get(path);
  if (segs === undefined) {
    segs = path.split('.');
    if (SEGMENTS.size < 1024) SEGMENTS.set(path, segs);
  }
  return segs;
}

function describe(src: ValueSource): string {
  if ('value' in src) return 'fixed value';
  if ('header' in src) return `header "${src.header}"`;
  return `field "${src.field}"`;
}

function resolve(src: ValueSource, msg: MappableMessage): unknown {
  if ('value' in src) return src.value;
  if ('header' in src) return msg.headers[src.header];
  if (msg.body === undefined) throw new MappingError(`message is not JSON, so ${describe(src)} cannot be read`);
  return readPath(msg.body, src.field);
}

/** A mapping's params as entries, listed once per mapping rather than for every message. */
const PARAM_ENTRIES = new WeakMap<object, readonly [string, ParamSource][]>();

function paramEntries(params: Record<string, ParamSource>): readonly [string, ParamSource][] {
  let entries = PARAM_ENTRIES.get(params);
  if (entries === undefined) PARAM_ENTRIES.set(params, (entries = Object.entries(params)));
  return entries;
}

/**
 * Applies a mapping to one message. Throws MappingError naming the missing or mistyped source;
 * the result still goes through the signals package's validation (names, 64-bit params).
 */
export function mapMessage(mapping: SignalMapping, msg: MappableMessage): PublishInput {
  const name = resolve(mapping.name, msg);
  if (typeof name !== 'string' || name.length === 0) {
    throw new MappingError(`signal name from ${describe(mapping.name)} ${name === undefined ? 'is missing' : 'must be a non-empty string'}`);
  }
  const params: Record<string, unknown> = {};
  for (const [param, src] of paramEntries(mapping.params)) {
    const v = resolve(src, msg);
    if (v === undefined || v === null) {
      if (src.optional) continue;
      throw new MappingError(`param "${param}": ${describe(src)} is missing`);
    }
    if (typeof v === 'string' || typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) params[param] = v;
    else throw new MappingError(`param "${param}": ${describe(src)} must be a string or an integer (got ${Array.isArray(v) ? 'an array' : typeof v})`);
  }
  let payload: unknown = null;
  if (mapping.payload === 'message') payload = msg.body === undefined ? null : msg.text !== undefined ? new JsonText(msg.text, msg.body) : msg.body;
  else if (mapping.payload !== 'none') {
    if (msg.body === undefined) throw new MappingError(`message is not JSON, so payload field "${mapping.payload.field}" cannot be read`);
    payload = readPath(msg.body, mapping.payload.field) ?? null;
  }
  return { name, params, payload };
}

/**
 * A dedupe key as a request id. Keys that would exceed the request id limit are hashed, so any
 * source key stays usable and equal keys still give equal ids.
 */
export function dedupeRequestId(prefix: string, key: string): string {
  const id = `${prefix}:${key}`;
  if (id.length <= MAX_NAME_LENGTH) return id;
  return `${prefix}:sha256:${createHash('sha256').update(key).digest('hex')}`;
}

// Sixteen or more digits in a row may be an integer beyond 2^53 (or a long fraction): only then
// is the slower lossless parser needed. Anything shorter parses identically with JSON.parse.
const LONG_DIGITS = /\d{16}/;

/** Parses message JSON exactly (big integers as bigint), taking the fast path when it can. */
export function parseMessageJson(text: string): unknown {
  return LONG_DIGITS.test(text) ? parseJson(text) : JSON.parse(text);
}
