import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, migrate, PGliteDb, storeDefinitions } from '@baton/engine-core';
import { normalizeBatch, publishInTx } from '@baton/signals';
import { buildApp, routePlugin, type BatonApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { packageMigrations } from '../../src/migrations.js';
import { webRoutes } from '../../src/web/plugin.js';

let db: PGliteDb;
let app: BatonApp;

beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [...packageMigrations]);
  // Only the engine's read API is used here; it is never started.
  const runs = new Engine({ db, definitions: storeDefinitions(db) });
  app = await buildApp({ db, config: loadConfig({ PORT: '0' }), logger: createLogger('silent'), plugins: [routePlugin('web', webRoutes, { db, runs })] });
  await db.tx((tx) =>
    publishInTx(tx, normalizeBatch([{ name: 'db/prod/orders', params: { day: '2026-11-21' } }, { name: 'db/prod/orders', params: { day: '2026-11-22' } }, { name: 'kafka/events', params: {} }]), { type: 'REST' }),
  );
}, 60_000);
afterAll(async () => {
  await app?.close();
  await db?.close();
});

describe('web pages and assets', () => {
  it('redirects / to the home page and serves each page with a strict content security policy', async () => {
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/ui');
    const scripts: Record<string, string> = {};
    for (const url of ['/ui', '/ui/', '/ui/signals', '/ui/lineage?signal=a%2Fb&seq=1', '/ui/workflows', '/ui/workflows/wf%2Fx', '/ui/workflows/wf%2Fx/instances/3', '/ui/schedules']) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.body).toMatch(/<script type="module" src="\/ui\/assets\/\w+\.js"><\/script>/);
      scripts[url] = /assets\/([\w-]+\.js)/.exec(r.body)![1]!;
      // One shell for every page: the placeholders are all filled in.
      expect(r.body).not.toContain('{{');
    }
    expect(scripts).toMatchObject({ '/ui/workflows': 'workflows.js', '/ui/workflows/wf%2Fx': 'workflow.js', '/ui/workflows/wf%2Fx/instances/3': 'instance.js' });
    // Every page's script is an asset that exists.
    for (const file of new Set(Object.values(scripts))) expect((await app.inject({ url: `/ui/assets/${file}` })).statusCode, file).toBe(200);
  });

  it('tells the pages that, without tokens, the caller may act', async () => {
    expect((await app.inject({ url: '/api/v3/ui/session' })).json()).toEqual({ auth: false, token_name: null, role: null, may_act: true });
  });

  it('serves only the files of the assets folder', async () => {
    const js = await app.inject({ url: '/ui/assets/ui.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await app.inject({ url: '/ui/assets/style.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await app.inject({ url: '/ui/assets/missing.js' })).statusCode).toBe(404);
    for (const url of ['/ui/assets/..%2Fplugin.ts', '/ui/assets/%2e%2e%2fplugin.ts', '/ui/assets/../plugin.ts']) {
      const r = await app.inject({ url });
      expect([400, 404], url).toContain(r.statusCode);
      expect(r.body).not.toContain('webRoutes');
    }
  });
});

describe('with API tokens required', () => {
  it('serves the page shells and assets without a token, the data only with one', async () => {
    const token = 'b'.repeat(40);
    const runs = new Engine({ db, definitions: storeDefinitions(db) });
    const secured = await buildApp({
      db,
      config: loadConfig({ PORT: '0', BATON_TOKENS: `viewer:reader:${token},boss:admin:${'c'.repeat(40)}` }),
      logger: createLogger('silent'),
      plugins: [routePlugin('web', webRoutes, { db, runs })],
    });
    try {
      expect((await secured.inject({ url: '/' })).statusCode).toBe(302);
      expect((await secured.inject({ url: '/ui/signals' })).statusCode).toBe(200);
      expect((await secured.inject({ url: '/ui/assets/signals.js' })).statusCode).toBe(200);
      expect((await secured.inject({ url: '/api/v3/ui/signal-names' })).statusCode).toBe(401);
      const ok = await secured.inject({ url: '/api/v3/ui/signal-names', headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(200);
      // The session view names the token's role: a reader may not act, an admin may.
      expect((await secured.inject({ url: '/api/v3/ui/session' })).statusCode).toBe(401);
      expect((await secured.inject({ url: '/api/v3/ui/session', headers: { authorization: `Bearer ${token}` } })).json()).toEqual({ auth: true, token_name: 'viewer', role: 'reader', may_act: false });
      expect((await secured.inject({ url: '/api/v3/ui/session', headers: { authorization: `Bearer ${'c'.repeat(40)}` } })).json()).toEqual({ auth: true, token_name: 'boss', role: 'admin', may_act: true });
    } finally {
      await secured.close();
    }
  });
});

describe('the JSON views of the pages', () => {
  it('lists signal names with counts and last seen, filtered by prefix', async () => {
    const all = (await app.inject({ url: '/api/v3/ui/signal-names' })).json() as { names: { name: string; count: number; last_seen: number }[] };
    expect(all.names.map((n) => [n.name, n.count])).toEqual(expect.arrayContaining([['db/prod/orders', 2], ['kafka/events', 1]]));
    expect(all.names.every((n) => Math.abs(Date.now() - n.last_seen) < 120_000)).toBe(true);
    const some = (await app.inject({ url: '/api/v3/ui/signal-names?prefix=db%2F' })).json() as { names: { name: string }[] };
    expect(some.names.map((n) => n.name)).toEqual(['db/prod/orders']);
  });

  it('answers the lineage of a signal instance, and refuses unclear or unknown centers', async () => {
    const view = (await app.inject({ url: '/api/v3/ui/lineage?signal=db%2Fprod%2Forders&seq=2' })).json() as { center: string; graph: { nodes: { label: string }[] } };
    expect(view.center).toBe('signal:db/prod/orders#2');
    expect(view.graph.nodes.map((n) => n.label)).toEqual(['db/prod/orders #2']);
    const latest = (await app.inject({ url: '/api/v3/ui/lineage?signal=kafka%2Fevents' })).json() as { center: string };
    expect(latest.center).toBe('signal:kafka/events#1');

    const none = await app.inject({ url: '/api/v3/ui/lineage' });
    expect(none.statusCode).toBe(400);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect((await app.inject({ url: '/api/v3/ui/lineage?signal=a&workflow=b&instance=1' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v3/ui/lineage?signal=a&seq=x' })).statusCode).toBe(400);
    const unknown = await app.inject({ url: '/api/v3/ui/lineage?signal=no%2Fsuch&seq=1' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ detail: expect.stringContaining('no/such') });
    // A run without lineage is just its own node.
    const run = (await app.inject({ url: '/api/v3/ui/lineage?workflow=wf&instance=9' })).json() as { graph: { nodes: { label: string }[] } };
    expect(run.graph.nodes.map((n) => n.label)).toEqual(['wf #9']);
  });

  it('answers 404 for an unknown run or step and 400 for a malformed id', async () => {
    expect((await app.inject({ url: '/api/v3/ui/workflows/wf/instances/7' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v3/ui/workflows/wf/instances/7/steps/a' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v3/ui/workflows/wf/instances/abc' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/v3/ui/workflows/wf/instances/1/steps/a?attempt=0' })).statusCode).toBe(400);
  });

  it('lists workflows and schedules (none yet)', async () => {
    expect((await app.inject({ url: '/api/v3/ui/workflows' })).json()).toEqual({ workflows: [] });
    expect((await app.inject({ url: '/api/v3/ui/schedules' })).json()).toMatchObject({ schedules: [] });
  });
});
