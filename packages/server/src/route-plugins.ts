import type { RouteContext, RoutePlugin } from './app.js';

/**
 * The routes of every domain. This is where the composition root builds each domain's services once
 * (from the shared database, configuration and logger) and hands them to the route plugins under
 * `routes/`, e.g. `routePlugin('signals', signalRoutes, { signals })`. Health routes are built
 * into the app itself.
 */
export function createRoutePlugins(_ctx: RouteContext): RoutePlugin[] {
  return [];
}
