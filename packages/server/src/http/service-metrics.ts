import { registerSchedulerMetrics, type Scheduler } from '@baton/scheduler';
import type { RoutePlugin } from '../app.js';
import { metricsPlugin } from './metrics.js';
import { registerSourcesMetrics, type SourcesMetricsSource } from './sources-metrics.js';

/**
 * The metrics of a process's domain services, as route-plugin entries for `createRoutePlugins`:
 * `[...routes, ...serviceMetrics(services)]`. Each package's `registerXxxMetrics(registry, deps)`
 * is listed here as the package gains one.
 */
export function serviceMetrics(services: { scheduler: Scheduler; sources: SourcesMetricsSource }): RoutePlugin[] {
  return [
    metricsPlugin('scheduler', (registry) => registerSchedulerMetrics(registry, services.scheduler)),
    metricsPlugin('sources', (registry) => registerSourcesMetrics(registry, services.sources)),
  ];
}
