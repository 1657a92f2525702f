import { MAX_JSON_NESTING, nestingBeyond } from '@baton/signals';
import { ProblemError, ProblemTypes } from './problem.js';

// The deepest nesting a JSON request body may have (MAX_JSON_NESTING) is the one signals'
// payloads have; the definitions parser stops at the same depth.

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refused(message: string): ProblemError {
  return new ProblemError(400, 'Invalid JSON', `body: ${message}`, { type: ProblemTypes.validation, errors: [{ field: 'body', message }] });
}

/**
 * The text of a JSON body received as bytes: invalid UTF-8 is refused rather than stored with
 * replacement characters, and so is nesting deeper than MAX_JSON_NESTING. Throws a 400 ProblemError.
 */
export function jsonBodyText(body: Buffer | string): string {
  const text = utf8Text(body);
  const depth = nestingBeyond(text, MAX_JSON_NESTING);
  if (depth !== undefined) throw refused(`nesting deeper than ${MAX_JSON_NESTING} at character ${depth + 1}`);
  return text;
}

/** A body's bytes as text; invalid UTF-8 is a 400 ProblemError, never replacement characters. */
export function utf8Text(body: Buffer | string): string {
  if (typeof body === 'string') return body;
  try {
    return utf8.decode(body);
  } catch {
    throw refused('is not valid UTF-8');
  }
}

// U+0000 cannot be stored in PostgreSQL text or jsonb, and a lone surrogate has no UTF-8 form.
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what must be found
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Refuses a parsed body holding a string or key the database cannot store (U+0000, a lone
 * surrogate from a `\ud800` escape): a 400 ProblemError naming the field from the body's root
 * (`params.k`, `body` for a key of the root), instead of a 500 from the insert. Returns the value.
 */
export function storableJson<T>(value: T): T {
  const field = unstorableAt(value, '');
  if (field !== undefined) {
    const message = 'must not contain U+0000 or an unpaired surrogate (\\ud800-\\udfff)';
    throw new ProblemError(400, 'Invalid JSON', `${field}: ${message}`, { type: ProblemTypes.validation, errors: [{ field, message }] });
  }
  return value;
}

function unstorableAt(v: unknown, at: string): string | undefined {
  if (typeof v === 'string') return UNSTORABLE.test(v) ? at || 'body' : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = unstorableAt(v[i], `${at}[${i}]`);
      if (f !== undefined) return f;
    }
    return undefined;
  }
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) {
    for (const [k, x] of Object.entries(v)) {
      if (UNSTORABLE.test(k)) return at || 'body';
      const f = unstorableAt(x, at ? `${at}.${k}` : k);
      if (f !== undefined) return f;
    }
  }
  return undefined;
}
