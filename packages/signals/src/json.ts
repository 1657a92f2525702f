import { parse, stringify, isInteger } from 'lossless-json';

/** JSON as Baton reads it: integers beyond ±2^53 are bigint so 64-bit values stay exact. */
export type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

function parseNumber(text: string): number | bigint {
  if (isInteger(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

// Any number that may not be a safe integer has at least 16 digits in a row (2^53 has 16), or an
// exponent; text without such a run is parsed by the much faster built-in parser.
const MAYBE_UNSAFE_NUMBER = /\d{16}|\d[eE]/;

/** Parses JSON text keeping big integers exact (as bigint). Throws SyntaxError on bad input. */
export function parseJson(text: string): Json {
  if (!MAYBE_UNSAFE_NUMBER.test(text)) return JSON.parse(text) as Json;
  return parse(text, null, parseNumber) as Json;
}

/** Serialises JSON with bigint written as plain JSON numbers. */
export function stringifyJson(value: unknown): string {
  const out = stringify(value);
  if (out === undefined) throw new TypeError('value cannot be serialised as JSON');
  return out;
}

/**
 * Deepest nesting of arrays and objects Baton accepts in a JSON document: a signal's payload from
 * any source, and a REST request body. Recursive code further on (serialising, hashing, canonical
 * forms, PostgreSQL's jsonb parser) would otherwise run out of stack on a value nested thousands deep,
 * and a Kafka chunk that cannot be stored would be retried forever.
 */
export const MAX_JSON_NESTING = 256;

/** Index of the bracket in JSON text that nests deeper than `max` (strings skipped), or undefined. */
export function nestingBeyond(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/**
 * A JSON value together with the text it was parsed from (a Kafka message's value used whole as
 * the payload): validation reads `value`, and the store writes `text` as received, so the value
 * is never serialised again (PostgreSQL parses the text into jsonb once).
 */
export class JsonText {
  constructor(
    readonly text: string,
    readonly value: unknown,
  ) {}
}

// Text PostgreSQL may read differently from JSON.parse, or refuse, so it is not stored verbatim:
// a \u escape (only escapes can spell a NUL or an unpaired surrogate: a raw NUL is not valid JSON
// and text decoded from UTF-8 has no unpaired surrogate), a number with an exponent (1e999 is
// Infinity to JSON.parse but beyond jsonb's numeric) or a very long run of digits.
const NOT_VERBATIM = /\\u|\d[eE]|\d{1000}/;

/** True when JSON text can be stored as jsonb exactly as received (see NOT_VERBATIM). */
export function storableVerbatim(text: string): boolean {
  return !NOT_VERBATIM.test(text);
}
