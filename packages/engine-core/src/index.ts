export type { Db, Queryable, QueryResult } from './db/db.js';
export { parseInt8 } from './db/db.js';
export { PgDb } from './db/pg-db.js';
export { PGliteDb } from './db/pglite-db.js';
export { openDb, type OpenDbOptions } from './db/open.js';
export { migrate, migrationsApplied, loadMigrations, type Migration, type MigrationSource } from './db/migrate.js';
export { engineMigrations } from './migrations.js';
