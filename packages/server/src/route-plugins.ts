import type { RoutePlugin } from './app.js';

/**
 * The route plugins of every domain, each mounted as its own encapsulated fastify plugin under its
 * prefix. Health routes are built into the app; domain routes (signals, workflows, instances,
 * lineage) are appended here as they are written.
 */
export const routePlugins: readonly RoutePlugin[] = [];
