export type { Db, Queryable, QueryResult } from './db/db.js';
export { parseInt8 } from './db/db.js';
export { PgDb } from './db/pg-db.js';
export { PGliteDb } from './db/pglite-db.js';
export { openDb, type OpenDbOptions } from './db/open.js';
export { migrate, migrationsApplied, loadMigrations, type Migration, type MigrationSource } from './db/migrate.js';
export { engineMigrations } from './migrations.js';
export type * from './definition/model.js';
export { PARAM_TYPES, PARAM_MODES, RUN_STRATEGY_RULES, FAILURE_MODES, BACKOFF_TYPES, DEFAULT_STEP_CONCURRENCY, walkSteps } from './definition/model.js';
