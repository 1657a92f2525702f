import { engineMigrations, type MigrationSource } from '@baton/engine-core';

/**
 * Every package's migrations, in dependency order (a package's tables may reference those of the
 * packages before it). A package that gains tables adds its `MigrationSource` here.
 */
export const packageMigrations: readonly MigrationSource[] = [engineMigrations];
