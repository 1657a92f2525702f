/**
 * The one storage contract every package uses. Two implementations exist: `pg` Pool (PostgreSQL,
 * production and scale-out) and PGlite (embedded default). SQL written against this interface must
 * run unchanged on both, so keep to PostgreSQL 15 SQL with `$1` placeholders.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/**
 * Column values follow one rule on both implementations: BIGINT arrives as a JS number when it is
 * a safe integer and as a bigint beyond ±2^53, so 64-bit ids and signal params stay exact.
 */
export function parseInt8(text: string): number | bigint {
  const n = BigInt(text);
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface Db extends Queryable {
  /** 'postgres' or 'pglite': lets callers tune (e.g. batch sizes) without branching on SQL. */
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction on one connection; commits when it resolves, rolls back when it
   * throws. Nested calls are not supported: pass the `tx` handle down instead.
   */
  /** Runs a multi-statement SQL script with no parameters (migrations). */
  exec(sql: string): Promise<void>;
  tx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
