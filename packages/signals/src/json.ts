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
