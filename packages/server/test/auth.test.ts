import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RouteOptions } from 'fastify';
import { migrate, PGliteDb } from '@baton/engine-core';
import { SignalService } from '@baton/signals';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, routePlugin, type BatonApp } from '../src/app.js';
import { loadConfig, missingTokensError, type ServerConfig } from '../src/config.js';
import { ALLOWED_ROLES, defaultAccess, type Access } from '../src/http/auth.js';
import { sha256, verifyToken, type ApiToken } from '../src/http/tokens.js';
import { createLogger } from '../src/logger.js';
import { packageMigrations } from '../src/migrations.js';
import { createRoutePlugins } from '../src/route-plugins.js';
import { signalRoutes } from '../src/routes/signals.js';
import { StartupError } from '../src/startup-error.js';

const logger = createLogger('silent');
const SECRETS = {
  reader: 'reader-secret-0123456789',
  publisher: 'publisher-secret-0123456789',
  admin: 'admin-secret-0123456789',
  publisher2: 'second-publisher-secret-0123',
} as const;
const TOKENS = `r:reader:${SECRETS.reader},p:publisher:${SECRETS.publisher},a:admin:${SECRETS.admin},p2:publisher:${SECRETS.publisher2}`;
const ROLES = ['reader', 'publisher', 'admin'] as const;
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

function configError(env: Record<string, string>): StartupError {
  try {
    const config = loadConfig(env, '/srv/baton');
    const missing = missingTokensError(config);
    if (missing) throw missing;
  } catch (err) {
    if (err instanceof StartupError) return err;
    throw err;
  }
  throw new Error(`configuration ${JSON.stringify(env)} was accepted`);
}

describe('token settings', () => {
  it('reads BATON_TOKENS as name:role:token entries (the token may hold colons)', () => {
    const config = loadConfig({ BATON_TOKENS: ' ci:publisher:abc:def:0123456789ab , grafana:reader:zzzzzzzzzzzzzzzzzz ' });
    expect(config.tokens.map((t) => [t.name, t.role])).toEqual([
      ['ci', 'publisher'],
      ['grafana', 'reader'],
    ]);
    expect(verifyToken(config.tokens, 'abc:def:0123456789ab')?.name).toBe('ci');
  });

  it('reads BATON_TOKENS_FILE in YAML or JSON, with plain tokens or SHA-256 digests', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'baton-tokens-'));
    try {
      const digest = sha256('ops-token-0123456789abcdef').toString('hex');
      await writeFile(path.join(dir, 'tokens.yaml'), `tokens:\n  - name: ops\n    role: admin\n    sha256: ${digest}\n  - name: feed\n    role: publisher\n    token: feed-token-0123456789\n`);
      await writeFile(path.join(dir, 'tokens.json'), JSON.stringify([{ name: 'dash', role: 'reader', token: 'dash-token-0123456789' }]));
      const yaml = loadConfig({ BATON_TOKENS_FILE: 'tokens.yaml' }, dir).tokens;
      expect(verifyToken(yaml, 'ops-token-0123456789abcdef')).toMatchObject({ name: 'ops', role: 'admin' });
      expect(verifyToken(yaml, 'feed-token-0123456789')).toMatchObject({ name: 'feed', role: 'publisher' });
      const both = loadConfig({ BATON_TOKENS_FILE: path.join(dir, 'tokens.json'), BATON_TOKENS: `x:admin:${SECRETS.admin}` }, '/').tokens;
      expect(both.map((t) => t.name)).toEqual(['x', 'dash']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ BATON_TOKENS: 'justatoken' }, 'BATON_TOKENS', /entry 1 must be name:role:token, got "just\.\.\."/],
    [{ BATON_TOKENS: 'a:root:0123456789abcdefgh' }, 'BATON_TOKENS', /role must be one of reader, publisher, admin, got "root"/],
    [{ BATON_TOKENS: 'a:admin:short' }, 'BATON_TOKENS', /token must be at least 16 characters/],
    [{ BATON_TOKENS: 'a b:admin:0123456789abcdefgh' }, 'BATON_TOKENS', /name must be/],
    [{ BATON_TOKENS: 'a:admin:0123456789abcdefgh,a:reader:zyxwvutsrqponmlkji' }, 'BATON_TOKENS', /token name "a" is used twice/],
    [{ BATON_TOKENS: 'a:admin:0123456789abcdefgh,b:reader:0123456789abcdefgh' }, 'BATON_TOKENS', /token "b" has the same secret as another token/],
    [{ BATON_TOKENS_FILE: '/nonexistent/tokens.yaml' }, 'BATON_TOKENS_FILE', /cannot read \/nonexistent\/tokens\.yaml: ENOENT/],
    [{ BATON_PUBLISH_RATE_LIMIT: 'lots' }, 'BATON_PUBLISH_RATE_LIMIT', /must be a whole number/],
    [{ BATON_PUBLISH_RATE_WINDOW: '0' }, 'BATON_PUBLISH_RATE_WINDOW', /must be a whole number of seconds from 1 to 3600, got "0"/],
    [{ BATON_PUBLISH_RATE_WINDOW: '1m' }, 'BATON_PUBLISH_RATE_WINDOW', /must be a whole number of seconds from 1 to 3600, got "1m"/],
    [{ BATON_PUBLISH_RATE_WINDOW: '3601' }, 'BATON_PUBLISH_RATE_WINDOW', /from 1 to 3600/],
    [{ DATABASE_URL: 'postgres://db/baton' }, 'BATON_TOKENS', /API tokens are required because DATABASE_URL is set; set BATON_TOKENS=name:role:token or BATON_TOKENS_FILE/],
    [{ HOST: '0.0.0.0' }, 'BATON_TOKENS', /API tokens are required because HOST 0\.0\.0\.0 is not loopback/],
  ])('refuses %j naming %s', (env, setting, message) => {
    const err = configError(env);
    expect(err.setting).toBe(setting);
    expect(err.describe()).toMatch(message);
    expect(err.describe()).not.toContain('0123456789abcdefgh');
  });

  it('needs no tokens on loopback with the embedded database', () => {
    for (const HOST of ['127.0.0.1', '::1', 'localhost']) expect(missingTokensError(loadConfig({ HOST }))).toBeUndefined();
  });

  it('refuses to build an app that needs tokens and has none', async () => {
    const db = await PGliteDb.open({});
    try {
      await expect(buildApp({ db, config: loadConfig({ HOST: '0.0.0.0' }), logger })).rejects.toThrow(StartupError);
    } finally {
      await db.close();
    }
  });
});

describe('verifyToken', () => {
  const tokens: ApiToken[] = [
    { name: 'a', role: 'admin', digest: sha256(SECRETS.admin) },
    { name: 'r', role: 'reader', digest: sha256(SECRETS.reader) },
  ];

  it('finds the token whose secret was presented, and nothing for anything else', () => {
    expect(verifyToken(tokens, SECRETS.reader)?.name).toBe('r');
    expect(verifyToken(tokens, SECRETS.admin)?.name).toBe('a');
    for (const wrong of ['', SECRETS.reader.slice(0, -1), `${SECRETS.reader}x`, SECRETS.reader.toUpperCase()]) expect(verifyToken(tokens, wrong)).toBeUndefined();
  });

  /**
   * How much longer `fn(a)` takes than `fn(b)`: batches of calls alternate between the two inputs,
   * and the median of the ratios of neighbouring batches is taken, so load from other processes
   * (which comes in bursts) hits both sides of most pairs alike and drops out of the median.
   */
  function timingRatio(fn: (presented: string) => unknown, a: string, b: string): number {
    const rounds = 61;
    const perBatch = 200;
    const batch = (input: string) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perBatch; i++) fn(input);
      return Number(process.hrtime.bigint() - t0);
    };
    for (let i = 0; i < 5; i++) batch(i % 2 ? a : b);
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which input goes first, so a trend within a round favours neither.
      if (r % 2) {
        const ta = batch(a);
        ratios.push(ta / batch(b));
      } else {
        const tb = batch(b);
        ratios.push(batch(a) / tb);
      }
    }
    return ratios.sort((x, y) => x - y)[rounds >> 1]!;
  }

  /** Up to three measurements: a real difference shows in every one, a burst of load rarely in all. */
  function steadyRatio(fn: (presented: string) => unknown, a: string, b: string, ok: (ratio: number) => boolean): number[] {
    const seen: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      seen.push(timingRatio(fn, a, b));
      if (ok(seen.at(-1)!)) break;
    }
    return seen;
  }

  it('takes the same time however many leading characters of a wrong token match', () => {
    // Long secrets make a leak visible: an early-exit comparison of 4,096 characters takes
    // microseconds longer on a near match than on a first-character mismatch.
    const secret = 'S'.repeat(4095) + 'Z';
    const store: ApiToken[] = [{ name: 'long', role: 'admin', digest: sha256(secret) }];
    const farMiss = 'X' + secret.slice(1);
    const nearMiss = secret.slice(0, -1) + 'Y';
    const leaky = (presented: string) => {
      if (presented.length !== secret.length) return false;
      for (let i = 0; i < secret.length; i++) if (presented.charCodeAt(i) !== secret.charCodeAt(i)) return false;
      return true;
    };
    const leakVisible = (ratio: number) => ratio > 2;
    const noLeak = (ratio: number) => ratio > 0.8 && ratio < 1.25;
    // The measurement sees the leak of a naive comparison...
    const naive = steadyRatio(leaky, nearMiss, farMiss, leakVisible);
    expect(leakVisible(naive.at(-1)!), `naive comparison, near/far miss time ratios: ${naive.join(', ')}`).toBe(true);
    // ...and none in verifyToken.
    const ours = steadyRatio((p) => verifyToken(store, p), nearMiss, farMiss, noLeak);
    expect(noLeak(ours.at(-1)!), `verifyToken, near/far miss time ratios: ${ours.join(', ')}`).toBe(true);
  });
});

/** Turns a route pattern into a concrete URL: every parameter becomes `x`. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z_]\w*/g, 'x').replace(/\*$/, 'x');
}

function isAuthProblem(body: string): boolean {
  return /"type":"urn:baton:problem:(unauthorized|forbidden)"/.test(body);
}

describe('every route of the production app', () => {
  let db: PGliteDb;
  let app: BatonApp;
  const routes: Array<{ method: string; url: string; access: Access }> = [];

  beforeAll(async () => {
    db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    const config: ServerConfig = { ...loadConfig({ BATON_TOKENS: TOKENS }, tmpdir()), publishRateLimit: 0 };
    app = await buildApp({
      db,
      config,
      logger,
      plugins: createRoutePlugins({ db, config, logger }),
      onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: route.config!.access! });
      },
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('has the operational routes with the documented access', () => {
    const access = Object.fromEntries(routes.map((r) => [`${r.method} ${r.url}`, r.access]));
    expect(access).toMatchObject({ 'GET /healthz': 'open', 'GET /readyz': 'open', 'GET /docs': 'open', 'GET /openapi.json': 'open', 'GET /metrics': 'read' });
  });

  it('answers 401 without a token or with a wrong one, 403 for a role that may not, and lets allowed roles through', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const url = concrete(route.url);
      const send = (headers: Record<string, string>) =>
        app.inject({ method: route.method as 'GET', url, headers: { 'content-type': 'application/json', ...headers }, ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { payload: '{}' }) });
      const where = `${route.method} ${route.url} (${route.access})`;
      if (route.access === 'open') {
        const r = await send({});
        if (r.statusCode === 401 || isAuthProblem(r.body)) failures.push(`${where}: open route answered ${r.statusCode}`);
        continue;
      }
      for (const [label, headers] of [['no token', {}], ['wrong token', bearer('not-a-configured-token-0000')], ['malformed header', { authorization: SECRETS.admin }]] as const) {
        const r = await send(headers);
        if (r.statusCode !== 401 || !/^Bearer realm="baton"/.test(String(r.headers['www-authenticate'])) || !String(r.headers['content-type']).startsWith('application/problem+json')) {
          failures.push(`${where} with ${label}: ${r.statusCode} ${String(r.headers['www-authenticate'])}`);
        }
      }
      for (const role of ROLES) {
        const r = await send(bearer(SECRETS[role]));
        const allowed = ALLOWED_ROLES[route.access].includes(role);
        if (allowed && isAuthProblem(r.body)) failures.push(`${where}: ${role} refused with ${r.statusCode}`);
        // HEAD answers carry no body to name the problem type.
        if (!allowed && (r.statusCode !== 403 || (route.method !== 'HEAD' && !r.body.includes('urn:baton:problem:forbidden')))) failures.push(`${where}: ${role} answered ${r.statusCode}, expected 403`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('needs a valid token to learn that a path does not exist', async () => {
    expect((await app.inject({ url: '/api/v3/nothing-here' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v3/nothing-here', headers: bearer(SECRETS.publisher) })).statusCode).toBe(404);
  });
});

describe('roles on the signals API, and the publish rate limit', () => {
  let db: PGliteDb;
  let app: BatonApp;
  const LIMIT = 3;

  beforeAll(async () => {
    db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    const signals = new SignalService(db, {
      starter: {
        startWorkflow: () => Promise.reject(new Error('these tests define no workflows, so no trigger can fire')),
      },
      expressions: { condition: () => true, dedupKey: () => undefined },
    });
    const config: ServerConfig = { ...loadConfig({ BATON_TOKENS: TOKENS, BATON_PUBLISH_RATE_LIMIT: String(LIMIT) }, tmpdir()) };
    app = await buildApp({ db, config, logger, plugins: [routePlugin('signals', signalRoutes, { signals })] });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const publish = (secret: string | undefined, n: number) =>
    app.inject({
      method: 'POST',
      url: '/api/v3/signals',
      headers: { 'content-type': 'application/json', ...(secret ? bearer(secret) : {}) },
      payload: JSON.stringify({ name: 'auth/test', params: { n } }),
    });

  it.each([
    ['publisher', 'POST /api/v3/signals', 200],
    ['admin', 'POST /api/v3/signals', 200],
    ['reader', 'POST /api/v3/signals', 403],
    ['reader', 'GET /api/v3/signals/auth%2Ftest/instances', 200],
    ['admin', 'GET /api/v3/signals/auth%2Ftest/instances', 200],
    ['publisher', 'GET /api/v3/signals/auth%2Ftest/instances', 403],
    ['reader', 'GET /metrics', 200],
    ['publisher', 'GET /metrics', 403],
  ] as const)('%s: %s answers %i', async (role, route, status) => {
    const [method, url] = route.split(' ') as ['GET' | 'POST', string];
    const r =
      method === 'POST'
        ? await publish(role === 'publisher' ? SECRETS.publisher2 : SECRETS[role], 1000 + status)
        : await app.inject({ url, headers: bearer(SECRETS[role]) });
    expect(r.statusCode, r.body).toBe(status);
  });

  it('answers 429 once a token used its publishes for the minute; other tokens keep theirs', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await publish(SECRETS.publisher, i)).statusCode).toBe(200);
    const limited = await publish(SECRETS.publisher, LIMIT);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ status: 429, type: 'urn:baton:problem:rate-limited', detail: expect.stringContaining('token "p" may publish 3 times per minute') });
    expect((await publish(SECRETS.admin, 99)).statusCode).toBe(200);
    // Reading is not limited.
    for (let i = 0; i < LIMIT + 2; i++) expect((await app.inject({ url: '/api/v3/signals/auth%2Ftest/instances', headers: bearer(SECRETS.reader) })).statusCode).toBe(200);
  });

  it('derives access from method and path', () => {
    expect(defaultAccess('POST', '/api/v3/signals')).toBe('publish');
    expect(defaultAccess('POST', '/api/v3/cloudevents')).toBe('publish');
    expect(defaultAccess('POST', '/api/v3/sns')).toBe('open');
    expect(defaultAccess('GET', '/docs/static/index.html')).toBe('open');
    expect(defaultAccess('GET', '/api/v3/workflows')).toBe('read');
    expect(defaultAccess('POST', '/api/v3/workflows')).toBe('admin');
    expect(defaultAccess('DELETE', '/api/v3/workflows/:id')).toBe('admin');
  });
});
