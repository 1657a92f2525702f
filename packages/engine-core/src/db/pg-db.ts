import pg from 'pg';
import { parseInt8, type Db, type QueryResult, type Queryable } from './db.js';

const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PgDbOptions {
  connectionString: string;
  max?: number;
  /** Name shown in pg_stat_activity; helps when several Baton processes share one server. */
  applicationName?: string;
}

/**
 * Baton's sessions run with JIT compilation off (`-c jit=off` in the startup options; options the
 * URL names come after it, so they can turn it back on). Its statements are short index lookups,
 * but over a partitioned table the planner adds up every partition's cost: at 20M stored signals
 * the matcher's 5 ms lookup of a batch's instances crossed jit_above_cost and spent 0.6-1.4 s per
 * call compiling 656 functions (pg_stat_statements: jit time = all of its time).
 */
function withoutJit(connectionString: string): { connectionString: string; options?: string } {
  const off = '-c jit=off';
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, options: off };
  }
  const own = url.searchParams.get('options');
  // The URL's own options override the pool's: add to them instead.
  if (own === null) return { connectionString, options: off };
  url.searchParams.set('options', `${off} ${own}`);
  return { connectionString: url.toString() };
}

export class PgDb implements Db {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;

  constructor(opts: PgDbOptions) {
    this.pool = new pg.Pool({
      ...withoutJit(opts.connectionString),
      max: opts.max ?? 10,
      application_name: opts.applicationName ?? 'baton',
      types: types as pg.CustomTypesConfig,
    });
    // An idle client that loses its server (restart, network) emits 'error'; without a listener
    // that would crash the process. The pool discards the client and the next query reconnects.
    this.pool.on('error', () => {});
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.pool.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async tx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no 'error' listener of the pool's: a server that goes away between
    // two statements of the transaction (a restart, a crash) would emit an unhandled 'error' and
    // end the process. Keep it here instead; the next statement fails and the client is dropped.
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    const release = (destroy: boolean): void => {
      client.removeListener('error', onError);
      client.release(destroy || broken);
    };
    const handle: Queryable = {
      async query<R>(sql: string, params?: readonly unknown[]) {
        const res = await client.query(sql, params as unknown[] | undefined);
        return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
      },
    };
    try {
      await client.query('BEGIN');
      const out = await fn(handle);
      await client.query('COMMIT');
      release(false);
      return out;
    } catch (err) {
      try {
        if (!broken) await client.query('ROLLBACK');
        release(false);
      } catch {
        // The connection itself is broken: drop it rather than return it to the pool.
        release(true);
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
