import type { Db } from './db.js';
import { PgDb } from './pg-db.js';
import { PGliteDb } from './pglite-db.js';

export interface OpenDbOptions {
  /** PostgreSQL connection string; when absent Baton uses PGlite. */
  databaseUrl?: string;
  /** PGlite data folder; `memory` or undefined with `inMemory` keeps everything in memory. */
  dataDir?: string;
  inMemory?: boolean;
  applicationName?: string;
  poolSize?: number;
}

/** Picks the implementation: PostgreSQL when a URL is given, else the embedded PGlite. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.databaseUrl) {
    return new PgDb({ connectionString: opts.databaseUrl, applicationName: opts.applicationName, max: opts.poolSize });
  }
  return PGliteDb.open(opts.inMemory ? {} : { dataDir: opts.dataDir ?? './.baton-data' });
}
