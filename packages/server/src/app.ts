import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type RouteOptions } from 'fastify';
import type { Db, MigrationSource } from '@baton/engine-core';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import { packageMigrations } from './migrations.js';
import { healthRoutes } from './http/health.js';
import { errorHandler } from './http/problem.js';
import { LeveledRequestLogs } from './http/request-logs.js';
import { RouteMethods } from './http/method-not-allowed.js';
import { refuseNonFiniteNumbers } from './http/finite-numbers.js';
import { assignAccess, authHook } from './http/auth.js';
import { limitPublishing, registerRateLimit } from './http/rate-limit.js';
import { registerOpenApi } from './http/openapi.js';
import { createMetricsRegistry, httpMetricsHook, metricsRoute } from './http/metrics.js';
import { missingTokensError } from './config.js';
import type { BatonApp, RoutePlugin } from './baton-app.js';

export { routePlugin, type BatonApp, type RouteContext, type RoutePlugin } from './baton-app.js';

export interface AppDeps {
  db: Db;
  config: ServerConfig;
  logger: Logger;
  plugins?: readonly RoutePlugin[];
  /** Migrations /readyz requires; defaults to every package's. */
  migrations?: readonly MigrationSource[];
  /** Sees every route as it is registered, with its access decided (route listings, coverage tests). */
  onRoute?: (route: RouteOptions) => void;
}

/** Large enough for big workflow definitions, small enough that a stray upload cannot exhaust memory. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const REQUEST_ID_HEADER = 'x-request-id';
const CLIENT_REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** The API version shown in the OpenAPI document. */
export const API_VERSION = '3.0.0';

/**
 * Builds the app: request ids, problem documents, auth, per-token publish limits, metrics and the
 * OpenAPI document come first, so every route added afterwards (health, then each route plugin)
 * is authenticated, limited, timed and documented. Throws `StartupError` (BATON_TOKENS) when the
 * configuration needs API tokens and has none.
 */
export async function buildApp(deps: AppDeps): Promise<BatonApp> {
  const missing = missingTokensError(deps.config);
  if (missing) throw missing;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestId,
    logController: new LeveledRequestLogs(deps.config.requestLogLevel),
    // `/healthz/` finds the same route as `/healthz`.
    routerOptions: { ignoreTrailingSlash: true },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // While closing, a keep-alive connection whose request was in flight would stay open after the
  // response and hold shutdown up until its idle timeout; telling the client to close ends it.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.setErrorHandler(errorHandler);
  refuseNonFiniteNumbers(app);
  const routeMethods = new RouteMethods();
  app.setNotFoundHandler(routeMethods.handler());
  app.addHook('onRequest', routeMethods.hook());

  // onRoute hooks run in the order added: access first, since the rate limit and the OpenAPI
  // document read it from the route's config.
  app.addHook('onRoute', (route) => {
    assignAccess(route);
    limitPublishing(route, deps.config.publishRateLimit, deps.config.publishRateWindowSeconds);
    routeMethods.add(route);
    deps.onRoute?.(route);
  });
  app.addHook('onRequest', authHook({ tokens: deps.config.tokens, enabled: deps.config.tokens.length > 0 }));
  await registerRateLimit(app, deps.config.publishRateWindowSeconds);
  await registerOpenApi(app, { version: API_VERSION });
  const registry = createMetricsRegistry();
  app.decorate('metrics', registry);
  app.addHook('onResponse', httpMetricsHook(registry));
  await app.register(metricsRoute, { registry });

  await app.register(healthRoutes, { db: deps.db, migrations: deps.migrations ?? packageMigrations });
  for (const p of deps.plugins ?? []) {
    try {
      await p.mount(app);
    } catch (err) {
      throw new Error(`route plugin "${p.name}" failed to register: ${(err as Error).message}`, { cause: err });
    }
  }
  await app.ready();
  return app;
}

/** Keeps a caller's request id (so logs line up across services) when it is short and plain. */
function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}
