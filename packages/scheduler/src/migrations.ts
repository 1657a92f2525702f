import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '@baton/engine-core';

export const schedulerMigrations: MigrationSource = {
  pkg: 'scheduler',
  dir: fileURLToPath(new URL('../migrations', import.meta.url)),
};
