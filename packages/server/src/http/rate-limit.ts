import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, RouteOptions } from 'fastify';
import type { BatonApp } from '../baton-app.js';
import { ProblemError } from './problem.js';

/**
 * Registers @fastify/rate-limit without a global limit; `limitPublishing` then puts each publishing
 * route under a per-token limit of requests per window of `windowSeconds`. Call before any route is added.
 */
export async function registerRateLimit(app: BatonApp, windowSeconds: number): Promise<void> {
  const per = windowSeconds === 60 ? 'minute' : `${windowSeconds} s`;
  await app.register(rateLimit, {
    global: false,
    // The limit is per token, so several clients behind one proxy do not share it; without auth
    // (loopback) the client address stands in.
    keyGenerator: (request: FastifyRequest) => (request.apiToken ? `token:${request.apiToken.name}` : `ip:${request.ip}`),
    errorResponseBuilder: (request, context) =>
      new ProblemError(
        429,
        'Too Many Requests',
        `${request.apiToken ? `token "${request.apiToken.name}"` : 'this client'} may publish ${context.max} times per ${per}; retry after ${context.after}`,
        { type: 'urn:baton:problem:rate-limited' },
      ),
  });
}

/**
 * An `onRoute` step: limits a publishing route (access `publish`) to `max` requests per window of
 * `windowSeconds` (BATON_PUBLISH_RATE_WINDOW, a minute by default) unless the route sets its own.
 */
export function limitPublishing(route: RouteOptions, max: number, windowSeconds: number): void {
  if (max <= 0 || route.config?.access !== 'publish' || route.config.rateLimit !== undefined) return;
  route.config = { ...route.config, rateLimit: { max, timeWindow: windowSeconds * 1000 } };
}
