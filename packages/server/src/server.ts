import { migrate, migrationsApplied, type Db, type MigrationSource } from '@baton/engine-core';
import { buildApp, type BatonApp, type RoutePlugin } from './app.js';
import type { ServerConfig } from './config.js';
import { databasePlan, openDatabase, type OpenedDatabase } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { packageMigrations } from './migrations.js';
import { createRoutePlugins } from './route-plugins.js';
import { listenError, probeListen } from './listen.js';
import { loadServiceSettings, type ServiceSettings } from './service-config.js';
import { createServices, type BatonServices, type ServicesDeps } from './services.js';
import { setServicesReadiness } from './http/health.js';

export interface StartOptions {
  logger?: Logger;
  plugins?: readonly RoutePlugin[];
  migrations?: readonly MigrationSource[];
  /** Service settings; default: read from `env` (validated: a wrong one is a StartupError). */
  services?: ServiceSettings;
  /** Environment the service settings come from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Builds the services (default createServices); tests wrap it to observe or delay start-up. */
  createServices?: (deps: ServicesDeps) => BatonServices;
}

export interface RunningServer {
  app: BatonApp;
  db: Db;
  /** The address actually bound, e.g. `http://127.0.0.1:8080` (useful with PORT=0). */
  url: string;
  logger: Logger;
  /** The engine, signals, scheduler and sources running in this process. */
  services: BatonServices;
  /**
   * Settles once the services have started (the server listens before: /healthz answers at once,
   * /readyz is 503 until then). Rejects when they failed to; the server has then closed itself.
   */
  servicesStarted: Promise<void>;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * Opens the database, applies every package's migrations, starts listening and then starts the
 * services in the background (joining a Kafka group can take a minute; probes and the API must
 * answer meanwhile). Problems the operator can fix surface as `StartupError`; anything opened so
 * far is closed again first.
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const started = performance.now();
  const logger = options.logger ?? createLogger(config.logLevel);
  const migrations = options.migrations ?? packageMigrations;
  const settings = options.services ?? loadServiceSettings(options.env ?? process.env);

  await probeListen(config);
  const plan = await databasePlan(config);
  logger.info({ database: plan.target }, plan.action === 'creating the embedded database' ? `${plan.action} (first start: this takes a few seconds)` : plan.action);
  const database = await openDatabase(config);
  const openedAt = performance.now();
  logger.info({ database: database.target, kind: database.db.kind, openMs: Math.round(openedAt - started) }, 'database opened');
  let app: BatonApp | undefined;
  let services: BatonServices | undefined;
  try {
    // One query on a warm start instead of a locked transaction per migration.
    const upToDate = await migrationsApplied(database.db, [...migrations]);
    if (!upToDate) logger.info('migrating the database');
    const applied = upToDate ? [] : await migrate(database.db, [...migrations]);
    for (const m of applied) logger.info({ pkg: m.pkg, version: m.version, migration: m.name }, 'migration applied');
    const migratedAt = performance.now();
    logger.info({ applied: applied.length, migrateMs: Math.round(migratedAt - openedAt) }, 'migrations up to date');
    services = (options.createServices ?? createServices)({ db: database.db, logger, settings });
    app = await buildApp({ db: database.db, config, logger, plugins: options.plugins ?? createRoutePlugins({ db: database.db, config, logger, services }), migrations });
    setServicesReadiness(app.server, 'services starting');
    logger.debug({ buildMs: Math.round(performance.now() - migratedAt) }, 'HTTP API built');
    await listen(app, config);
  } catch (err) {
    await app?.close().catch(() => {});
    await services?.stop().catch(() => {});
    await database.close().catch(() => {});
    throw err;
  }
  const url = boundUrl(app);
  logger.info({ url, listenMs: Math.round(performance.now() - started) }, 'server listening; starting services');
  const running = services;
  const listening = app;
  const starting = services.start();
  let closing = false;
  const close = once(() => {
    closing = true;
    return shutdown(listening, running, database, logger);
  });
  const servicesStarted = starting.then(
    () => {
      // A shutdown during start-up ends the start early: nothing to announce then.
      if (closing) return;
      setServicesReadiness(listening.server, undefined);
      logger.info({ url, startupMs: Math.round(performance.now() - started) }, 'server ready');
    },
    async (err: unknown) => {
      logger.fatal({ err }, 'services failed to start; stopping the server');
      setServicesReadiness(listening.server, `services failed to start: ${(err as Error).message}`);
      await close().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'stopping after failed start-up failed'));
      throw err;
    },
  );
  // Callers that only use close() must not see an unhandled rejection; the failure is logged.
  servicesStarted.catch(() => {});
  return { app, db: database.db, url, logger, services, servicesStarted, close };
}

async function listen(app: BatonApp, config: ServerConfig): Promise<void> {
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    throw listenError(err, config);
  }
}

function boundUrl(app: BatonApp): string {
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') return String(addr);
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

async function shutdown(app: BatonApp, services: BatonServices, database: OpenedDatabase, logger: Logger): Promise<void> {
  const started = performance.now();
  try {
    // Fastify stops accepting, answers new requests on open connections with 503, waits for the
    // in-flight ones and closes idle keep-alive connections.
    await app.close();
  } finally {
    try {
      // Consumers, scheduler, matcher and engine workers: running step attempts are aborted and
      // resume on the next start (or in another process) from the database. A start still running
      // (a Kafka group join) ends after its current step, so that nothing starts after stop().
      await services.stop();
    } finally {
      await database.close();
    }
  }
  logger.info({ shutdownMs: Math.round(performance.now() - started) }, 'server stopped');
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
