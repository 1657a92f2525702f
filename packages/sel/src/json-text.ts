import { SelError } from './errors.js';
import { MAX_DATA_DEPTH, importValue } from './convert.js';
import { javaDoubleToString } from './runtime/library.js';
import { SelArray, javaString, type Value } from './runtime/values.js';

/**
 * JSON text → data, keeping every whole number exact: whole numbers (no fraction, no exponent)
 * become bigint, others number. Objects are null-prototype records, so `__proto__` is an
 * ordinary key. Nesting deeper than MAX_DATA_DEPTH is refused.
 */
export function parseJsonPreservingLongs(text: string): unknown {
  let i = 0;
  const fail = (msg: string): never => {
    throw new SyntaxError(`invalid JSON at position ${i}: ${msg}`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DATA_DEPTH) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out = Object.create(null) as Record<string, unknown>;
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[k] = value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return m[1] === undefined && m[2] === undefined ? BigInt(m[0]) : Number(m[0]);
  };
  const str = (): string => {
    // JSON strings: no raw control characters, only JSON's escapes.
    // eslint-disable-next-line no-control-regex
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) return fail('bad string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('unexpected trailing text');
  return v;
}

/** JSON text → SEL values: whole numbers LONG (exact), others DOUBLE, arrays and objects. */
export function selValuesFromJsonText(text: string): Value {
  return importValue(parseJsonPreservingLongs(text));
}

/** A SEL value as JSON text: LONGs exact, DOUBLEs as Java prints them, host objects as their text. */
export function stringifySel(v: Value | undefined, options: { bigLongAsString?: boolean } = {}, depth = 0): string {
  if (depth > MAX_DATA_DEPTH) throw new SelError('limit', `data nesting depth limit of ${MAX_DATA_DEPTH} exceeded: the value nests deeper than that, or contains itself`);
  switch (typeof v) {
    case 'bigint':
      return options.bigLongAsString && (v > 9007199254740992n || v < -9007199254740992n) ? `"${v}"` : v.toString();
    case 'number':
      return Number.isFinite(v) ? javaDoubleToString(v) : JSON.stringify(String(v));
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    default:
      if (v === null) return 'null';
      if (v instanceof SelArray) return `[${v.items.map((x) => stringifySel(x as Value, options, depth + 1)).join(',')}]`;
      if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}:${stringifySel(x, options, depth + 1)}`).join(',')}}`;
      return JSON.stringify(javaString(v));
  }
}
