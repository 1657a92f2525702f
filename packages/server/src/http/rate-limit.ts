import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, RouteOptions } from 'fastify';
import type { BatonApp } from '../baton-app.js';
import { ProblemError } from './problem.js';

export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * Registers @fastify/rate-limit without a global limit; `limitPublishing` then puts each publishing
 * route under a per-token limit of `perMinute` requests. Call before any route is added.
 */
export async function registerRateLimit(app: BatonApp): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    // The limit is per token, so several clients behind one proxy do not share it; without auth
    // (loopback) the client address stands in.
    keyGenerator: (request: FastifyRequest) => (request.apiToken ? `token:${request.apiToken.name}` : `ip:${request.ip}`),
    errorResponseBuilder: (request, context) =>
      new ProblemError(
        429,
        'Too Many Requests',
        `${request.apiToken ? `token "${request.apiToken.name}"` : 'this client'} may publish ${context.max} times per minute; retry after ${context.after}`,
        { type: 'urn:baton:problem:rate-limited' },
      ),
  });
}

/** An `onRoute` step: limits a publishing route (access `publish`) unless the route sets its own. */
export function limitPublishing(route: RouteOptions, perMinute: number): void {
  if (perMinute <= 0 || route.config?.access !== 'publish' || route.config.rateLimit !== undefined) return;
  route.config = { ...route.config, rateLimit: { max: perMinute, timeWindow: RATE_LIMIT_WINDOW_MS } };
}
