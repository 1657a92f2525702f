import { engineMigrations, type MigrationSource } from '@baton/engine-core';
import { schedulerMigrations } from '@baton/scheduler';
import { signalsMigrations } from '@baton/signals';

/**
 * Every package's migrations, in dependency order (a package's tables may reference those of the
 * packages before it): the engine's, then signals' (signals, triggers, lineage, the outbound
 * outbox), then the scheduler's.
 */
export const packageMigrations: readonly MigrationSource[] = [engineMigrations, signalsMigrations, schedulerMigrations];
