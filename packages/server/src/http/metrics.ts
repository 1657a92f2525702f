import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RoutePlugin } from '../baton-app.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The app's Prometheus registry, served at /metrics. Packages add their metrics to it with a
     * `registerXxxMetrics(registry, deps)` function, mounted through `metricsPlugin`.
     */
    metrics: Registry;
  }
}

/** Latency buckets from 1 ms to 10 s: API calls are quick, a large batch publish is not. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A fresh registry with the Node.js process metrics (CPU, memory, event loop lag, GC, handles). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Times every response by route pattern (never by raw URL, which would make a series per signal
 * name) and status. `baton_http_request_duration_seconds_count` is the request count.
 */
export function httpMetricsHook(registry: Registry) {
  const duration = new Histogram({
    name: 'baton_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  return async function observe(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  };
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** `GET /metrics` in the Prometheus text format. */
export const metricsRoute: FastifyPluginAsync<{ registry: Registry }> = async (app, opts) => {
  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: {
        summary: 'Prometheus metrics',
        description: 'Process, HTTP and domain metrics in the Prometheus text exposition format.',
        tags: ['operations'],
        response: { 200: { description: 'the Prometheus text format (version 0.0.4)', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => {
      const text = await opts.registry.metrics();
      return reply.type(METRICS_CONTENT_TYPE).send(text);
    },
  );
};

/**
 * A route-plugin entry that only registers metrics, for the composition root's list, e.g.
 * `metricsPlugin('scheduler', (registry) => registerSchedulerMetrics(registry, scheduler))`.
 */
export function metricsPlugin(name: string, register: (registry: Registry) => void): RoutePlugin {
  return {
    name: `${name} metrics`,
    async mount(app) {
      register(app.metrics);
    },
  };
}

/**
 * A counter mirroring cumulative totals some component keeps (per label set), read at scrape time.
 * The totals only grow, so Prometheus' rate() works; a restart starts them from zero as usual.
 */
export function totalsCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Promise<Iterable<[Partial<Record<L, string>>, number]>> | Iterable<[Partial<Record<L, string>>, number]>,
): Counter<L> {
  const counter: Counter<L> = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const totals = await read();
      counter.reset();
      for (const [labels, value] of totals) counter.inc(labels, Math.max(0, value));
    },
  });
  return counter;
}

/** A gauge whose values (per label set) are read at scrape time. */
export function readGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Promise<Iterable<[Partial<Record<L, string>>, number]>> | Iterable<[Partial<Record<L, string>>, number]>,
): Gauge<L> {
  const gauge: Gauge<L> = new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const values = await read();
      gauge.reset();
      for (const [labels, value] of values) gauge.set(labels, value);
    },
  });
  return gauge;
}

/**
 * Shares one call of an expensive read (a database query) between the collectors of one scrape:
 * calls within `ttlMs` of each other get the same promise.
 */
export function perScrape<T>(read: () => Promise<T>, ttlMs = 1000): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = performance.now();
    if (!cached || now - cached.at > ttlMs) {
      const value = read();
      // A failed read is not kept: the next scrape tries again.
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
      cached = { at: now, value };
    }
    return cached.value;
  };
}
