import type { JsonObject, JsonValue } from './model.js';

/**
 * JSON text ↔ JsonValue without losing 64-bit integers: `JSON.parse` rounds 9223372036854775807,
 * so integers beyond ±2^53 become bigint here. Errors carry line and column, duplicate keys are
 * refused (a definition with two `"id"`s is a mistake, not a preference for the last one), and
 * nesting depth is bounded so hostile input cannot overflow the stack.
 */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_DEPTH = 256;

export function parseJsonText(text: string): JsonValue {
  let pos = 0;

  const fail = (message: string, at = pos): never => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    throw new JsonSyntaxError(message, line, at - lineStart + 1);
  };

  const skipWs = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const describe = (): string => (pos >= text.length ? 'end of input' : `'${text[pos]}'`);

  const parseString = (): string => {
    const start = pos;
    pos++; // opening quote
    let out = '';
    let chunk = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(chunk, pos);
        pos++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(chunk, pos);
        const e = text[pos + 1];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(pos + 2, pos + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape in string');
            out += String.fromCharCode(parseInt(hex, 16));
            pos += 4;
            break;
          }
          default:
            fail(`bad escape '\\${e ?? ''}' in string`);
        }
        pos += 2;
        chunk = pos;
        continue;
      }
      pos++;
    }
  };

  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const parseNumber = (): number | bigint => {
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m) return fail(`unexpected ${describe()}`);
    pos += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    skipWs();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: JsonObject = {};
      const seen = new Set<string>();
      skipWs();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text[pos] !== '"') fail(`expected a property name but found ${describe()}`);
        const keyAt = pos;
        const key = parseString();
        if (seen.has(key)) fail(`duplicate key "${key}"`, keyAt);
        seen.add(key);
        skipWs();
        if (text[pos] !== ':') fail(`expected ':' but found ${describe()}`);
        pos++;
        const value = parseValue(depth + 1);
        // defineProperty: a "__proto__" key must be data, never the object's prototype.
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        fail(`expected ',' or '}' but found ${describe()}`);
      }
    }
    if (c === '[') {
      pos++;
      const arr: JsonValue[] = [];
      skipWs();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        fail(`expected ',' or ']' but found ${describe()}`);
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    return fail(`unexpected ${describe()}`);
  };

  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  const value = parseValue(0);
  skipWs();
  if (pos < text.length) fail(`unexpected ${describe()} after the JSON value`);
  return value;
}

/**
 * JSON text of a JsonValue; bigints are written as plain integers. `sortKeys` gives a canonical
 * form (content hashes). `undefined` members are left out, as JSON.stringify does.
 */
export function stringifyJson(value: JsonValue, opts: { sortKeys?: boolean } = {}): string {
  const out: string[] = [];
  const write = (v: JsonValue): void => {
    if (v === null) out.push('null');
    else if (typeof v === 'bigint') out.push(v.toString());
    else if (typeof v === 'number') out.push(Number.isFinite(v) ? JSON.stringify(v) : 'null');
    else if (typeof v === 'string' || typeof v === 'boolean') out.push(JSON.stringify(v));
    else if (Array.isArray(v)) {
      out.push('[');
      v.forEach((item, i) => {
        if (i > 0) out.push(',');
        write(item);
      });
      out.push(']');
    } else {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined);
      if (opts.sortKeys) keys.sort();
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(k), ':');
        write(v[k] as JsonValue);
      });
      out.push('}');
    }
  };
  write(value);
  return out.join('');
}
