import { badRequest } from '../routes/workflow-http.js';

/**
 * Opaque cursors for lists ordered by a key of two strings (workflow id, trigger id): the
 * base64url of the JSON pair of the last row's key. A page after it starts strictly after that
 * key, so rows inserted while a client pages are neither skipped before it nor repeated.
 */
export function encodeKeyCursor(key: readonly [string, string]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Reads a cursor; a malformed one is a 400 naming `field`. */
export function decodeKeyCursor(text: string, field = 'querystring.cursor'): [string, string] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'string')) {
    throw badRequest(field, 'is not a cursor this list returned (pass next_cursor back unchanged)');
  }
  return [value[0] as string, value[1] as string];
}
