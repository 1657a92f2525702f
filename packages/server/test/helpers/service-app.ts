import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { migrate, PGliteDb, type Db } from '@baton/engine-core';
import { buildApp, type BatonApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { packageMigrations } from '../../src/migrations.js';
import { createRoutePlugins } from '../../src/route-plugins.js';
import { loadServiceSettings } from '../../src/service-config.js';
import { createServices, type BatonServices } from '../../src/services.js';
import { freshPgliteCluster } from '../../../../test/setup/pglite-template.js';
import { repoRoot } from './baton-process.js';

export interface ServiceApp {
  app: BatonApp;
  db: Db;
  services: BatonServices;
  close(): Promise<void>;
}

/**
 * The whole service (every route, engine, signals, scheduler), started, on an in-memory PGlite or
 * on the given database (closed with the app).
 */
export async function startServiceApp(env: Record<string, string> = {}, given?: Db): Promise<ServiceApp> {
  const db = given ?? (await PGliteDb.open({ loadDataDir: await freshPgliteCluster() }));
  await migrate(db, [...packageMigrations]);
  const config = loadConfig({}, tmpdir());
  const logger = createLogger('silent');
  const services = createServices({ db, logger, settings: loadServiceSettings(env), eventPollMs: 200 });
  const app = await buildApp({ db, config, logger, plugins: createRoutePlugins({ db, config, logger, services }) });
  await services.start();
  return {
    app,
    db,
    services,
    async close() {
      await app.close();
      await services.stop();
      await db.close();
    },
  };
}

/**
 * Starts the service before the tests of the enclosing `describe` and closes it after them;
 * the returned function gives the running service inside a test.
 */
export function serviceAppPerSuite(env: Record<string, string> = {}): () => ServiceApp {
  let s: ServiceApp | undefined;
  beforeAll(async () => {
    s = await startServiceApp(env);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });
  return () => {
    if (!s) throw new Error('the service app has not started (serviceAppPerSuite must be called inside a describe)');
    return s;
  };
}

export function sample(name: string): string {
  return readFileSync(path.resolve(repoRoot, '../shared/maestro-samples', name), 'utf8');
}
