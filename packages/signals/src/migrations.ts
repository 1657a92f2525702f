import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '@baton/engine-core';

export const signalsMigrations: MigrationSource = {
  pkg: 'signals',
  dir: fileURLToPath(new URL('../migrations', import.meta.url)),
};
