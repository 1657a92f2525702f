/**
 * Opaque keyset cursors for the list read models: base64url of a small JSON array holding the
 * sort key of the last row of a page. A cursor names a position, not an offset, so rows inserted
 * between two pages neither shift nor repeat the rows that were already there.
 */

/** A list filter the caller got wrong; `field` names the filter (e.g. `status`, `cursor`). */
export class ListFilterError extends Error {
  override readonly name = 'ListFilterError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The page size bounds every list shares. */
export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 1000;

export function encodeCursor(kind: string, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

/**
 * The key a cursor of `kind` holds, `arity` strings long each matching `pattern`; a cursor of
 * another list, or text that is no cursor at all, is a ListFilterError on `cursor`.
 */
export function decodeCursor(kind: string, text: string, patterns: readonly RegExp[]): string[] {
  const bad = () => new ListFilterError('cursor', 'is not a cursor of this list: pass next_cursor from the previous page unchanged');
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(text)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== patterns.length + 1 || parsed[0] !== kind) throw bad();
  const key = parsed.slice(1);
  if (!key.every((v, i) => typeof v === 'string' && patterns[i]!.test(v))) throw bad();
  return key as string[];
}

/** A page size from 1 to LIST_LIMIT_MAX (default LIST_LIMIT_DEFAULT). */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return LIST_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) throw new ListFilterError('limit', `must be a whole number from 1 to ${LIST_LIMIT_MAX}`);
  return limit;
}

/** `text` for LIKE with its wildcards taken literally (escape character `\`). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Collects SQL conditions and their parameters ($1, $2, ... in order). */
export class Conditions {
  readonly where: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(sql: string): void {
    this.where.push(sql);
  }

  sql(): string {
    return this.where.length ? `WHERE ${this.where.join(' AND ')}` : '';
  }
}
