import { migrate, PgDb, PGliteDb, pushWorkflow, parseWorkflowJson, type Db, type StartWorkflowResult } from '@baton/engine-core';
import { createTestDatabase } from '../../setup/infra.js';
import { buildApp, routePlugin, type BatonApp } from '../../../packages/server/src/app.js';
import { loadConfig } from '../../../packages/server/src/config.js';
import { createLogger } from '../../../packages/server/src/logger.js';
import { packageMigrations } from '../../../packages/server/src/migrations.js';
import { signalRoutes } from '../../../packages/server/src/routes/signals.js';
import { loadServiceSettings } from '../../../packages/server/src/service-config.js';
import { createServices, type BatonServices } from '../../../packages/server/src/services.js';
import { webRoutes } from '../../../packages/server/src/web/plugin.js';

export interface WebTestService {
  url: string;
  app: BatonApp;
  services: BatonServices;
  /** Stores a workflow version and activates it (subscriptions and schedules follow). */
  push(definition: object): Promise<void>;
  start(workflowId: string, requestId: string): Promise<StartWorkflowResult>;
  publish(signal: object): Promise<{ seq_id: number }>;
  close(): Promise<void>;
}

/**
 * A Baton service on a free port over in-memory PGlite (or a fresh database on the run's
 * PostgreSQL with `{ postgres: true }`): the real engine, signals, scheduler and
 * their wiring (`createServices`), the signals REST API and the web pages. Signals go in over
 * REST; workflows are pushed and started through the engine's own functions.
 */
export async function startWebTestService(opts: { postgres?: boolean } = {}): Promise<WebTestService> {
  const database = opts.postgres ? await createTestDatabase() : undefined;
  const db: Db = database ? new PgDb({ connectionString: database.url, max: 8 }) : await PGliteDb.open({});
  await migrate(db, [...packageMigrations]);
  const logger = createLogger('warn');
  const config = loadConfig({ PORT: '0', BATON_LOG_LEVEL: 'warn' });
  const services = createServices({ db, logger, settings: loadServiceSettings({}), eventPollMs: 200 });
  const app = await buildApp({
    db,
    config,
    logger,
    plugins: [routePlugin('signals', signalRoutes, { signals: services.signals }), routePlugin('web', webRoutes, { db, runs: services.engine })],
  });
  await services.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('the test service has no TCP address');
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    url,
    app,
    services,
    async push(definition) {
      const parsed = parseWorkflowJson(JSON.stringify(definition));
      if (!parsed.ok) throw new Error(`bad test workflow: ${JSON.stringify(parsed.errors)}`);
      await pushWorkflow(db, parsed.value, { events: services.lifecycle });
    },
    start(workflowId, requestId) {
      return services.engine.startWorkflow({ workflowId, requestId });
    },
    async publish(signal) {
      const res = await fetch(`${url}/api/v3/signals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signal) });
      const text = await res.text();
      if (!res.ok) throw new Error(`publish failed: HTTP ${res.status} ${text}`);
      return JSON.parse(text) as { seq_id: number };
    },
    async close() {
      await app.close();
      await services.stop();
      await db.close();
      await database?.drop();
    },
  };
}
