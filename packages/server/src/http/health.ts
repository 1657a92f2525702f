import type { Server } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { migrationsApplied, type Db, type MigrationSource } from '@baton/engine-core';

export interface HealthOptions {
  db: Db;
  migrations: readonly MigrationSource[];
  /** How long /readyz waits for the database before calling it unreachable. */
  dbTimeoutMs?: number;
}

// Keyed by the HTTP server the app listens on: one per app, shared by the app and its plugins.
const servicesNotReady = new WeakMap<Server, string>();

/**
 * Tells `/readyz` of the app serving `server` that its services are not ready (`reason`, e.g.
 * `services starting`) or, with undefined, that they are. Apps never told are ready.
 */
export function setServicesReadiness(server: Server, reason: string | undefined): void {
  if (reason === undefined) servicesNotReady.delete(server);
  else servicesNotReady.set(server, reason);
}

/**
 * `/healthz` answers whenever the process can serve HTTP (liveness); `/readyz` only when the
 * database answers, every package's migrations are in and the services have started (readiness). Probes are frequent, so their
 * request logs are kept below the default level.
 */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  const dbTimeoutMs = opts.dbTimeoutMs ?? 2000;
  // Applied migrations stay applied, so once seen complete the check is not repeated.
  let migrated = false;

  app.get('/healthz', { logLevel: 'warn', schema: { summary: 'Liveness: the process serves HTTP', tags: ['operations'], response: { 200: okSchema } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn', schema: { summary: 'Readiness: the database answers and every migration is applied', tags: ['operations'], response: { 200: okSchema, 503: unavailableSchema } } }, async (_request, reply) => {
    try {
      await withTimeout(opts.db.query('SELECT 1'), dbTimeoutMs);
    } catch (err) {
      const why = err instanceof TimeoutError ? `no answer within ${dbTimeoutMs} ms` : (err as Error).message;
      return reply.code(503).send({ status: 'unavailable', reason: `database unreachable: ${why}` });
    }
    if (!migrated) migrated = await migrationsApplied(opts.db, [...opts.migrations]);
    if (!migrated) return reply.code(503).send({ status: 'unavailable', reason: 'database migrations are not applied' });
    const notReady = servicesNotReady.get(app.server);
    if (notReady !== undefined) return reply.code(503).send({ status: 'unavailable', reason: notReady });
    return { status: 'ready' };
  });
};

const okSchema = { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'ready'] } }, required: ['status'] } as const;
const unavailableSchema = {
  type: 'object',
  properties: { status: { type: 'string', enum: ['unavailable'] }, reason: { type: 'string', description: 'what is not ready, e.g. database unreachable: ...' } },
  required: ['status', 'reason'],
} as const;

class TimeoutError extends Error {}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
