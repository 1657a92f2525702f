import { PGliteDb, PgDb, migrate, engineMigrations, type Db } from '../../../src/index.js';
import { createTestDatabase, type Database } from '../../../../../test/setup/infra.js';
import { freshPgliteCluster } from '../../../../../test/setup/pglite-template.js';

export type DbKind = 'pglite' | 'postgres';

export interface TestDb {
  db: Db;
  /** PostgreSQL only: the fresh database's URL (for more pools or child processes). */
  url?: string;
  close(): Promise<void>;
}

/**
 * A migrated, empty database of the given kind. PostgreSQL comes from the test run's server
 * (`requirePostgres`): a missing server fails the test, it is never skipped.
 */
export async function openTestDb(kind: DbKind): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await PGliteDb.open({ loadDataDir: await freshPgliteCluster() });
    await migrate(db, [engineMigrations]);
    return { db, close: () => db.close() };
  }
  const database: Database = await createTestDatabase();
  const db = new PgDb({ connectionString: database.url, max: 10 });
  await migrate(db, [engineMigrations]);
  return {
    db,
    url: database.url,
    close: async () => {
      await db.close();
      await database.drop();
    },
  };
}
