import { PGlite } from '@electric-sql/pglite';
import type { Db, QueryResult, Queryable } from './db.js';

export interface PGliteDbOptions {
  /** A folder for the data; omit for an in-memory database (tests). */
  dataDir?: string;
  /**
   * Start an in-memory database from a `dumpDataDir()` tarball instead of running initdb (tests
   * keep one of a fresh cluster: loading it takes a fraction of initdb's CPU time).
   */
  loadDataDir?: Blob;
}

/**
 * PGlite is single-connection: `tx` serialises through PGlite's own transaction lock, so
 * concurrent callers queue instead of interleaving statements inside one transaction.
 */
export class PGliteDb implements Db {
  readonly kind = 'pglite' as const;
  private constructor(readonly pg: PGlite) {}

  static async open(opts: PGliteDbOptions = {}): Promise<PGliteDb> {
    const pg = opts.dataDir ? await PGlite.create(opts.dataDir) : opts.loadDataDir ? await PGlite.create({ loadDataDir: opts.loadDataDir }) : await PGlite.create();
    return new PGliteDb(pg);
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.pg.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  async tx<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction(async (t) => {
      const handle: Queryable = {
        async query<R>(sql: string, params?: readonly unknown[]) {
          const res = await t.query<R>(sql, params as unknown[] | undefined);
          return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
        },
      };
      return fn(handle);
    });
  }

  async close(): Promise<void> {
    await this.pg.close();
  }
}
