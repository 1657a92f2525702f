import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGliteDb } from '@baton/engine-core';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';

// package.json `overrides` keep two transitive packages on their previous major, whose releases
// support Node 20 (the next majors are ESM-only and declare Node >= 22). These check that their
// users still work with them.
describe('overridden dependencies', () => {
  it('light-my-request (inject) encodes cookies with cookie 1.x', async () => {
    expect(createRequire(createRequire(import.meta.url).resolve('light-my-request'))('cookie/package.json').version).toMatch(/^1\./);
    const app = Fastify();
    app.get('/echo', async (request) => ({ cookie: request.headers.cookie }));
    const res = await app.inject({ url: '/echo', cookies: { session: 'a b', other: 'x' } });
    expect(res.json()).toEqual({ cookie: 'session=a%20b; other=x' });
    await app.close();
  });

  it('@fastify/static (the swagger UI at /docs) serves with content-disposition 2.x', async () => {
    const fromStatic = createRequire(createRequire(import.meta.url).resolve('@fastify/swagger-ui'));
    const staticRequire = createRequire(fromStatic.resolve('@fastify/static'));
    const entry = staticRequire.resolve('content-disposition');
    const manifest = JSON.parse(readFileSync(path.join(entry.slice(0, entry.lastIndexOf('/content-disposition/') + 21), 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).toMatch(/^2\./);
    expect(staticRequire('content-disposition').create('report 1.csv')).toBe('attachment; filename="report 1.csv"');
    const db = await PGliteDb.open({});
    const app = await buildApp({ db, config: loadConfig({}, tmpdir()), logger: createLogger('silent') });
    try {
      const page = await app.inject({ url: '/docs' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('Swagger UI');
      // Its script and style are files @fastify/static sends.
      const css = await app.inject({ url: '/docs/static/swagger-ui.css' });
      expect(css.statusCode).toBe(200);
      expect(css.headers['content-type']).toMatch(/^text\/css/);
      expect(css.body.length).toBeGreaterThan(1000);
    } finally {
      await app.close();
      await db.close();
    }
  });
});
