import { fileURLToPath } from 'node:url';
import type { MigrationSource } from './db/migrate.js';

export const engineMigrations: MigrationSource = {
  pkg: 'engine-core',
  dir: fileURLToPath(new URL('../migrations', import.meta.url)),
};
