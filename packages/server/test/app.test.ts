import type { FastifyPluginAsync } from 'fastify';
import { PGliteDb, migrate, type Db } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, routePlugin, BODY_LIMIT_BYTES, type BatonApp, type RoutePlugin } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ProblemError, type Problem } from '../src/http/problem.js';
import { createLogger } from '../src/logger.js';
import { packageMigrations } from '../src/migrations.js';

const config = loadConfig({}, '/tmp');
const logger = createLogger('silent');

interface ItemsOptions {
  db: Db;
}

/** A domain-style plugin: its own options, schema-validated body, its own hook. */
const itemsRoutes: FastifyPluginAsync<ItemsOptions> = async (app, ctx) => {
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-items-plugin', 'yes');
    return payload;
  });
  app.post(
    '/',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'tags'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 },
            tags: { type: 'array', items: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } },
          },
        },
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1 } } },
      },
    },
    async (req) => {
      const { rows } = await ctx.db.query<{ n: number }>('SELECT 1 AS n');
      return { created: (req.body as { name: string }).name, dbKind: ctx.db.kind, n: rows[0]!.n };
    },
  );
  app.get('/conflict', async () => {
    throw new ProblemError(409, 'Item exists', 'item "a" already exists', { type: 'urn:baton:problem:conflict' });
  });
  app.get('/crash', async () => {
    throw new Error('secret internal detail');
  });
};

describe('buildApp on PGlite', () => {
  let db: PGliteDb;
  let app: BatonApp;

  beforeAll(async () => {
    db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    app = await buildApp({ db, config, logger, plugins: [routePlugin('items', itemsRoutes, { db }, '/api/v3/items')] });
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('GET /healthz answers while the process is up', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('ignores a trailing slash', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz/' })).statusCode).toBe(200);
  });

  it('GET /readyz answers ready once migrations are applied', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('gives every response a request id, keeping a plain one the client sent', async () => {
    const own = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'etl-run-42' } });
    expect(own.headers['x-request-id']).toBe('etl-run-42');
    const odd = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'has spaces\tand tabs' } });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v3/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toEqual({
      type: 'urn:baton:problem:not-found',
      title: 'Not Found',
      status: 404,
      detail: 'no route for GET /api/v3/nothing',
      instance: '/api/v3/nothing?x=1',
    });
  });

  it('runs plugin routes under their prefix with the shared database', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v3/items', payload: { name: 'a', tags: [] } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ created: 'a', dbKind: 'pglite', n: 1 });
    expect(res.headers['x-items-plugin']).toBe('yes');
  });

  it('keeps a plugin hook inside its plugin (encapsulation)', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['x-items-plugin']).toBeUndefined();
  });

  it('maps JSON-schema failures to the fields at fault', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v3/items',
      payload: { tags: [{ key: 'k' }, { nokey: 1 }], extra: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    const body = res.json<Problem>();
    expect(body).toMatchObject({ type: 'urn:baton:problem:validation', title: 'Invalid request', status: 400, instance: '/api/v3/items' });
    // ajv stops at the first failure unless allErrors is set; whichever it reports is named exactly.
    expect(body.errors!.length).toBeGreaterThan(0);
    for (const e of body.errors!) {
      expect(['body.name', 'body.extra', 'body.tags[1].key']).toContain(e.field);
      expect(body.detail).toContain(`${e.field} ${e.message}`);
    }
  });

  it('names a nested field at fault', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v3/items', payload: { name: 'a', tags: [{ key: 'k' }, { key: 7 }] } });
    // Fastify's ajv coerces scalars, so a number key becomes "7"; an object cannot be coerced.
    expect(res.statusCode).toBe(200);
    const bad = await app.inject({ method: 'POST', url: '/api/v3/items', payload: { name: 'a', tags: [{ key: 'k' }, { key: { x: 1 } }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Problem>().errors).toEqual([{ field: 'body.tags[1].key', message: 'must be string' }]);
  });

  it('maps querystring failures to the parameter', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v3/items?limit=0', payload: { name: 'a', tags: [] } });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ field: 'querystring.limit', message: 'must be >= 1' }]);
  });

  it('names a missing required property', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v3/items', payload: { tags: [] } });
    expect(res.json<Problem>().errors).toEqual([{ field: 'body.name', message: 'is required' }]);
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v3/items', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>()).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 });
    expect(res.json<Problem>().detail).toMatch(/JSON/);
  });

  it('answers a body over the limit with 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v3/items',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES), tags: [] }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toEqual({
      type: 'urn:baton:problem:body-too-large',
      title: 'Payload Too Large',
      status: 413,
      detail: `request body exceeds the limit of ${BODY_LIMIT_BYTES} bytes`,
      instance: '/api/v3/items',
    });
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v3/items', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(res.statusCode).toBe(415);
    expect(res.json<Problem>()).toMatchObject({ title: 'Unsupported Media Type', status: 415 });
  });

  it('passes a ProblemError through as thrown', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v3/items/conflict' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      type: 'urn:baton:problem:conflict',
      title: 'Item exists',
      status: 409,
      detail: 'item "a" already exists',
      instance: '/api/v3/items/conflict',
    });
  });

  it('hides the message of an unexpected error and quotes the request id', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v3/items/crash', headers: { 'x-request-id': 'req-9' } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(res.json()).toEqual({
      type: 'urn:baton:problem:internal',
      title: 'Internal Server Error',
      status: 500,
      detail: 'the server failed to handle this request; quote request id req-9 when reporting it',
      instance: '/api/v3/items/crash',
    });
  });
});

describe('/readyz when not ready', () => {
  it('reports migrations that are not applied', async () => {
    const db = await PGliteDb.open({});
    const app = await buildApp({ db, config, logger });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', reason: 'database migrations are not applied' });
      await migrate(db, [...packageMigrations]);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await db.close();
    }
  });

  it('reports a database that does not answer', async () => {
    const db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    const app = await buildApp({ db, config, logger });
    try {
      await db.close();
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/^database unreachable: /) });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('names a route plugin that fails to register', async () => {
    const db = await PGliteDb.open({});
    try {
      const broken: RoutePlugin = routePlugin('broken', async () => {
        throw new Error('bad schema');
      }, {});
      await expect(buildApp({ db, config, logger, plugins: [broken] })).rejects.toThrow('route plugin "broken" failed to register: bad schema');
    } finally {
      await db.close();
    }
  });
});
