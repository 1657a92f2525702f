import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { REST_DOCS_PATH, renderRestDocs, withProductionApp } from '../../../scripts/gen-rest-docs.js';
import { SETTINGS } from '../src/config.js';
import { SERVICE_SETTINGS } from '../src/service-config.js';

type Operation = { summary?: string; description?: string; security?: unknown[]; responses?: Record<string, unknown> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

/** Each route of the production app as registered, with what /docs, /docs/json and /openapi.json serve. */
let routes: Array<{ method: string; url: string; access: string; hidden: boolean }>;
let doc: Doc;
let docsJson: unknown;
let docsPage: { status: number; type: string; body: string };

beforeAll(async () => {
  await withProductionApp(async (app, registered) => {
    routes = registered.flatMap((r) =>
      [r.method].flat().map((method) => ({ method, url: r.url, access: String(r.config?.access), hidden: (r.schema as { hide?: boolean } | undefined)?.hide === true })),
    );
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json();
    docsJson = (await app.inject({ url: '/docs/json' })).json();
    const page = await app.inject({ url: '/docs' });
    docsPage = { status: page.statusCode, type: String(page.headers['content-type']), body: page.body };
  });
}, 120_000);

/** `/api/v3/signals/:name` → `/api/v3/signals/{name}`, as OpenAPI writes path parameters. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3, the same at /openapi.json and /docs/json, and browsable at /docs', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(docsJson).toEqual(doc);
    expect(docsPage.status).toBe(200);
    expect(docsPage.type).toMatch(/^text\/html/);
    expect(docsPage.body).toContain('Swagger UI');
  });

  it('documents every registered route of the production app', () => {
    // HEAD routes are fastify's automatic twins of GET routes; /docs and /openapi.json serve the document itself.
    const documented = routes.filter((r) => r.method !== 'HEAD' && !r.hidden && r.url !== '/docs' && !r.url.startsWith('/docs/'));
    const routeKeys = documented.map((r) => `${r.method} ${openApiPath(r.url)}`);
    // The app has the operational routes and those of the signals API at least.
    expect(routeKeys).toEqual(expect.arrayContaining(['GET /healthz', 'GET /readyz', 'GET /metrics', 'POST /api/v3/signals']));
    const missing = routeKeys.filter((key) => {
      const [method, p] = key.split(' ') as [string, string];
      return doc.paths[p]?.[method.toLowerCase()] === undefined;
    });
    expect(missing).toEqual([]);
    const hidden = routes.filter((r) => r.hidden && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    expect(hidden.every((key) => /^GET \/(docs|openapi\.json)/.test(key)), `only the documentation hides itself: ${hidden.join(', ')}`).toBe(true);
  });

  it('states on each operation who may call it', () => {
    expect(doc.components.securitySchemes).toHaveProperty('bearerAuth');
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const route = routes.find((r) => r.method === method.toUpperCase() && openApiPath(r.url) === p);
        expect(route, `${method} ${p}`).toBeDefined();
        if (route!.access === 'open') {
          expect(op.security, `${method} ${p}`).toEqual([]);
          expect(op.description).toContain('No token needed.');
        } else {
          expect(op.security, `${method} ${p}`).toEqual([{ bearerAuth: [] }]);
          expect(op.description).toMatch(/Needs an? (reader|publisher|admin)( or admin)? token\./);
        }
      }
    }
  });
});

describe('docs/rest.md', () => {
  it('documents every error answer as application/problem+json, and 400 wherever a route takes input', () => {
    const wrong: string[] = [];
    const no400: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const responses = (op.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>;
        for (const [code, r] of Object.entries(responses)) {
          if (Number(code) >= 400 && Object.keys(r.content ?? {}).join() !== 'application/problem+json') wrong.push(`${method} ${p} ${code}`);
        }
        const takesInput = ((op as { parameters?: unknown[] }).parameters?.length ?? 0) > 0 || (op as { requestBody?: unknown }).requestBody !== undefined;
        // The web pages (/ui/...) take any path and answer HTML, never 400.
        if (takesInput && p.startsWith('/api/') && responses['400'] === undefined) no400.push(`${method} ${p}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(no400).toEqual([]);
  });

  it('is up to date with the code (regenerate with `npm run docs:rest`)', async () => {
    const onDisk = await readFile(REST_DOCS_PATH, 'utf8').catch(() => '(docs/rest.md is missing)');
    expect(onDisk === renderRestDocs(doc as never), 'docs/rest.md is stale: run `npm run docs:rest` and commit the result').toBe(true);
  });
});

describe('docs/configuration.md', () => {
  it('describes every setting the server reads', async () => {
    const text = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = [...SETTINGS, ...SERVICE_SETTINGS].map((s) => s.name).filter((name) => !text.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
