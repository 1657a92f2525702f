import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGliteDb, PgDb, migrate, engineMigrations, type Db } from '../../../src/index.js';

/**
 * A fresh, empty PostgreSQL database for one test file. Uses `BATON_TEST_PG_URL` (a server the
 * test run started); a missing server is an error, never a skipped test.
 */
export async function freshPostgresUrl(): Promise<string> {
  const base = process.env.BATON_TEST_PG_URL;
  if (!base) throw new Error('BATON_TEST_PG_URL is not set: PostgreSQL tests need a server');
  const name = `baton_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export type DbKind = 'pglite' | 'postgres';

/** Opens a migrated database of the given kind; for PostgreSQL, also returns its URL. */
export async function openTestDb(kind: DbKind, url?: string): Promise<{ db: Db; url?: string }> {
  if (kind === 'pglite') {
    const db = await PGliteDb.open();
    await migrate(db, [engineMigrations]);
    return { db };
  }
  const u = url ?? (await freshPostgresUrl());
  const db = new PgDb({ connectionString: u, max: 10 });
  await migrate(db, [engineMigrations]);
  return { db, url: u };
}
