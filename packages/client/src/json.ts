import { isInteger, parse } from 'lossless-json';

function parseNumber(text: string): number | bigint {
  if (isInteger(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

// A number that may not be a safe integer has a run of at least 16 digits or an exponent; other
// text takes the much faster built-in parser.
const MAYBE_UNSAFE_NUMBER = /\d{16}|\d[eE]/;

/** JSON with exact integers: beyond ±2^53 they are bigint. Throws SyntaxError on bad input. */
export function parseJsonExact(text: string): unknown {
  if (!MAYBE_UNSAFE_NUMBER.test(text)) return JSON.parse(text);
  return parse(text, null, parseNumber);
}

/** JSON text in which bigint values are written as exact numbers. */
export function stringifyExact(value: unknown, indent?: number): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v !== 'bigint') return v;
      marks.push(v.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    },
    indent,
  );
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}
