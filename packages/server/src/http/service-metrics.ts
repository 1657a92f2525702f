import type { EventEmitter } from 'node:events';
import type { Queryable } from '@baton/engine-core';
import { registerSchedulerMetrics, type Scheduler } from '@baton/scheduler';
import { KafkaLagReader, type RetentionLoop, type SignalStats } from '@baton/signals';
import type { RoutePlugin } from '../baton-app.js';
import type { SourcesConfig } from '../wiring/signals-sources.js';
import { registerEngineMetrics, registerKafkaLagMetrics, registerMatchBacklogMetrics, registerQueueMetrics, registerSignalMetrics } from './domain-metrics.js';
import { metricsPlugin } from './metrics.js';
import { registerRetentionMetrics } from './retention-metrics.js';
import { registerSourcesMetrics, type SourcesMetricsSource } from './sources-metrics.js';

/** What the metrics read from a process's services (`BatonServices` fits). */
export interface MetricsServices {
  scheduler: Scheduler;
  sources: SourcesMetricsSource;
  db?: Queryable;
  engine?: { events: EventEmitter };
  signals?: { stats: SignalStats };
  retention?: RetentionLoop;
  /** With a Kafka source configured, its consumer group's lag is reported. */
  settings?: { sources: Pick<SourcesConfig, 'kafka'> };
}

/**
 * The metrics of a process's domain services, as route-plugin entries for `createRoutePlugins`:
 * `[...routes, ...serviceMetrics(services)]`. Each package's `registerXxxMetrics(registry, deps)`
 * is listed here as the package gains one.
 */
export function serviceMetrics(services: MetricsServices): RoutePlugin[] {
  const { signals, engine, db } = services;
  const inbound = async (): Promise<Array<[string, number]>> => {
    const m = await services.sources.metrics();
    return [['sns', m.sns.indexed], ...(m.kafka ? ([['kafka', m.kafka.indexed]] as Array<[string, number]>) : [])];
  };
  const plugins = [
    metricsPlugin('scheduler', (registry) => registerSchedulerMetrics(registry, services.scheduler)),
    metricsPlugin('sources', (registry) => registerSourcesMetrics(registry, services.sources, signals ? () => signals.stats.duplicates : undefined)),
  ];
  if (signals) plugins.push(metricsPlugin('signals', (registry) => registerSignalMetrics(registry, signals.stats, inbound)));
  if (db) plugins.push(metricsPlugin('queue', (registry) => registerQueueMetrics(registry, db)));
  if (db && signals) plugins.push(metricsPlugin('signal matching', (registry) => registerMatchBacklogMetrics(registry, db)));
  if (db && signals) plugins.push(metricsPlugin('retention', (registry) => registerRetentionMetrics(registry, db, services.retention)));
  if (engine) {
    plugins.push({
      name: 'engine metrics',
      async mount(app) {
        const stop = registerEngineMetrics(app.metrics, engine);
        app.addHook('onClose', async () => stop());
      },
    });
  }
  const kafka = services.settings?.sources.kafka;
  if (kafka && kafka.subscriptions.length > 0) {
    plugins.push({
      name: 'kafka lag metrics',
      async mount(app) {
        const lag = KafkaLagReader.forSource(kafka);
        registerKafkaLagMetrics(app.metrics, lag);
        app.addHook('onClose', () => lag.close());
      },
    });
  }
  return plugins;
}
