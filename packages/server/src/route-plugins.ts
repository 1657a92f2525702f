import { routePlugin, type RouteContext, type RoutePlugin } from './baton-app.js';
import { serviceMetrics } from './http/service-metrics.js';
import { loadServiceSettings } from './service-config.js';
import { createServices, type BatonServices } from './services.js';
import { cloudEventsRoutes } from './routes/cloudevents.js';
import { instanceRoutes } from './routes/instances.js';
import { iterationRoutes } from './routes/iterations.js';
import { lineageCatalogRoutes } from './routes/lineage-catalog.js';
import { listRoutes } from './routes/lists.js';
import { retentionRoutes } from './routes/retention.js';
import { signalRoutes } from './routes/signals.js';
import { snsRoutes } from './routes/sns.js';
import { stepActionRoutes } from './routes/step-actions.js';
import { stepLogRoutes } from './routes/step-logs.js';
import { triggerRoutes } from './routes/triggers.js';
import { waitingRoutes } from './routes/waiting.js';
import { workflowRoutes } from './routes/workflows.js';
import { webRoutes } from './web/plugin.js';

export interface RoutePluginContext extends RouteContext {
  /** The running services; without them a set is built (not started) from default settings. */
  services?: BatonServices;
}

/**
 * The routes of every domain, each handed the services it calls (built once by `createServices`),
 * and the services' metrics on /metrics. Health routes are built into the app itself.
 */
export function createRoutePlugins(ctx: RoutePluginContext): RoutePlugin[] {
  const services = ctx.services ?? createServices({ db: ctx.db, logger: ctx.logger, settings: loadServiceSettings({}) });
  return [
    routePlugin('workflows', workflowRoutes, {
      db: services.db,
      engine: services.engine,
      lifecycle: services.lifecycle,
      minTriggerIntervalMs: services.settings.minTriggerIntervalMs,
      requireOwner: services.settings.requireOwner,
    }),
    routePlugin('lists', listRoutes, { db: services.db }),
    routePlugin('instances', instanceRoutes, { db: services.db, engine: services.engine, signals: services.signals }),
    routePlugin('step-actions', stepActionRoutes, { db: services.db, engine: services.engine }),
    routePlugin('iterations', iterationRoutes, { engine: services.engine }),
    routePlugin('step-logs', stepLogRoutes, { engine: services.engine, db: services.db }),
    routePlugin('lineage-catalog', lineageCatalogRoutes, { db: services.db }),
    routePlugin('signals', signalRoutes, { signals: services.signals }),
    routePlugin('triggers', triggerRoutes, { db: services.db, scheduler: services.scheduler }),
    routePlugin('waiting', waitingRoutes, { db: services.db, engine: services.engine }),
    routePlugin('sns', snsRoutes, { sns: services.sources.sns }),
    routePlugin('cloudevents', cloudEventsRoutes, { cloudevents: services.sources.cloudevents }),
    routePlugin('retention', retentionRoutes, { db: services.db, retention: services.retention }),
    routePlugin('web', webRoutes, { db: services.db, runs: services.engine }),
    ...serviceMetrics(services),
  ];
}
