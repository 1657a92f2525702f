import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRuntime } from '../../src/runtimes/http-runtime.js';
import { HostAllowList } from '../../src/runtimes/host-allow-list.js';
import { stepContext } from './fake-context.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const u = new URL(req.url ?? '/', 'http://x');
      switch (u.pathname) {
        case '/echo':
          res.writeHead(200, { 'content-type': 'application/json', 'x-reply': 'yes' });
          res.end(JSON.stringify({ method: req.method, body, user: req.headers.user ?? null }));
          return;
        case '/missing':
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('no such thing');
          return;
        case '/redirect-local':
          res.writeHead(302, { location: '/echo' });
          res.end();
          return;
        case '/redirect-see-other':
          res.writeHead(303, { location: '/echo' });
          res.end();
          return;
        case '/redirect-away':
          res.writeHead(302, { location: 'http://forbidden.example.org/steal' });
          res.end();
          return;
        case '/slow':
          // Answers only after the test has given up; the response never arrives in time.
          setTimeout(() => {
            if (!res.destroyed) res.end('late');
          }, 5000).unref();
          return;
        case '/big': {
          res.writeHead(200, { 'content-type': 'text/plain' });
          // Streamed without a content-length, so the cap must be enforced while reading.
          const chunk = 'x'.repeat(16 * 1024);
          let sent = 0;
          const more = (): void => {
            while (sent < 64 && res.write(chunk)) sent++;
            if (sent < 64) res.once('drain', more);
            else res.end();
          };
          more();
          return;
        }
        case '/big-declared':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(200_000) });
          res.end('y'.repeat(200_000));
          return;
        default:
          res.writeHead(500);
          res.end('unexpected path');
      }
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const runtime = httpRuntime({ allowedHosts: ['127.0.0.1'], maxResponseBytes: 100_000 });

describe('Http runtime', () => {
  it('GETs a URL and returns status_code, response_body and response_headers', async () => {
    const ctx = stepContext();
    const r = await runtime.run({ http: { url: `${base}/echo`, method: 'get' } }, ctx);
    expect(r.status).toBe('SUCCEEDED');
    expect(r.outputs?.status_code).toBe(200n);
    expect(JSON.parse(r.outputs?.response_body as string)).toEqual({ method: 'GET', body: '', user: null });
    expect((r.outputs?.response_headers as Record<string, string>)['x-reply']).toBe('yes');
    expect(ctx.entries.some((e) => e.includes('answered 200'))).toBe(true);
  });

  it('POSTs a body with the given headers', async () => {
    const r = await runtime.run(
      { http: { url: `${base}/echo`, method: 'POST', headers: { 'Content-Type': 'application/yaml', user: 'tester' }, body: 'a: 1\n' } },
      stepContext(),
    );
    expect(r.status).toBe('SUCCEEDED');
    expect(JSON.parse(r.outputs?.response_body as string)).toEqual({ method: 'POST', body: 'a: 1\n', user: 'tester' });
    const last = seen.at(-1);
    expect(last?.headers['content-type']).toBe('application/yaml');
  });

  it("sends Maestro's default JSON headers when the step gives none", async () => {
    await runtime.run({ http: { url: `${base}/echo` } }, stepContext());
    expect(seen.at(-1)?.headers.accept).toBe('application/json');
  });

  it('fails a non-2xx answer as a user failure, keeping the outputs', async () => {
    const r = await runtime.run({ http: { url: `${base}/missing`, method: 'GET' } }, stepContext());
    expect(r.status).toBe('USER_FAILED');
    expect(r.outputs?.status_code).toBe(404n);
    expect(r.message).toContain('404');
    expect(r.message).toContain('no such thing');
  });

  it('lets state_expr decide, as in sample-http-wf job.5', async () => {
    const stateExpr = 'if (status_code == 404) return "DONE";\nelse return "FATAL_ERROR";\n';
    const ok = await runtime.run({ http: { url: `${base}/missing` }, state_expr: stateExpr }, stepContext());
    expect(ok.status).toBe('SUCCEEDED');
    const fatal = await runtime.run({ http: { url: `${base}/echo` }, state_expr: stateExpr }, stepContext());
    expect(fatal.status).toBe('FATALLY_FAILED');
    const bad = await runtime.run({ http: { url: `${base}/echo` }, state_expr: 'return 3;' }, stepContext());
    expect(bad.status).toBe('USER_FAILED');
    expect(bad.message).toContain('DONE');
  });

  it('refuses a host outside the allow-list without connecting', async () => {
    const before = connections;
    const seenBefore = seen.length;
    const strict = httpRuntime({ allowedHosts: ['localhost:1'] });
    const r = await strict.run({ http: { url: `${base}/echo` } }, stepContext());
    expect(r.status).toBe('FATALLY_FAILED');
    expect(r.message).toContain('allow-list');
    const none = await httpRuntime({ allowedHosts: [] }).run({ http: { url: `${base}/echo` } }, stepContext());
    expect(none.status).toBe('FATALLY_FAILED');
    expect(connections).toBe(before);
    expect(seen.length).toBe(seenBefore);
  });

  it('refuses non-http schemes', async () => {
    const r = await runtime.run({ http: { url: 'file:///etc/passwd' } }, stepContext());
    expect(r.status).toBe('FATALLY_FAILED');
    expect(r.message).toContain('only http and https');
  });

  it('follows a redirect to an allowed host', async () => {
    const r = await runtime.run({ http: { url: `${base}/redirect-local` } }, stepContext());
    expect(r.status).toBe('SUCCEEDED');
    expect(seen.at(-1)?.url).toBe('/echo');
  });

  it('turns a POST into a GET without body on 303', async () => {
    const r = await runtime.run({ http: { url: `${base}/redirect-see-other`, method: 'POST', body: 'x' } }, stepContext());
    expect(r.status).toBe('SUCCEEDED');
    expect(JSON.parse(r.outputs?.response_body as string)).toMatchObject({ method: 'GET', body: '' });
  });

  it('refuses a redirect to a host outside the allow-list', async () => {
    const r = await runtime.run({ http: { url: `${base}/redirect-away` } }, stepContext());
    expect(r.status).toBe('FATALLY_FAILED');
    expect(r.message).toContain('forbidden.example.org');
  });

  it('returns the redirect itself when redirects are not followed', async () => {
    const noFollow = httpRuntime({ allowedHosts: ['127.0.0.1'], maxRedirects: 0 });
    const r = await noFollow.run({ http: { url: `${base}/redirect-away` } }, stepContext());
    expect(r.status).toBe('USER_FAILED');
    expect(r.outputs?.status_code).toBe(302n);
  });

  it('times out (param timeout) as TIMED_OUT', async () => {
    const t0 = Date.now();
    const r = await runtime.run({ http: { url: `${base}/slow`, timeout: 0.2 } }, stepContext());
    expect(r.status).toBe('TIMED_OUT');
    expect(Date.now() - t0).toBeLessThan(3000);
    const byDefault = await httpRuntime({ allowedHosts: ['127.0.0.1'], defaultTimeoutMs: 150 }).run({ http: { url: `${base}/slow` } }, stepContext());
    expect(byDefault.status).toBe('TIMED_OUT');
  });

  it('stops promptly when ctx.signal aborts', async () => {
    const ctrl = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ctrl.abort(new Error('stopped')), 100);
    const r = await runtime.run({ http: { url: `${base}/slow` } }, stepContext({ signal: ctrl.signal }));
    expect(r.status).not.toBe('SUCCEEDED');
    expect(r.message).toContain('stopped');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('caps the response size, streamed or declared', async () => {
    const streamed = await runtime.run({ http: { url: `${base}/big` } }, stepContext());
    expect(streamed.status).toBe('USER_FAILED');
    expect(streamed.message).toContain('larger than 100000 bytes');
    const declared = await runtime.run({ http: { url: `${base}/big-declared` } }, stepContext());
    expect(declared.status).toBe('USER_FAILED');
    expect(declared.message).toContain('larger than 100000 bytes');
  });

  it('reports a refused connection as a retryable platform failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await runtime.run({ http: { url: `http://127.0.0.1:${port}/` } }, stepContext());
    expect(r.status).toBe('PLATFORM_FAILED');
    expect(r.message).toContain('ECONNREFUSED');
  });

  it('explains bad params', async () => {
    expect((await runtime.run({}, stepContext())).message).toContain('`http`');
    expect((await runtime.run({ http: { url: 'not a url' } }, stepContext())).message).toContain('not a valid absolute URL');
    expect((await runtime.run({ http: { url: `${base}/echo`, headers: { 'bad name': 'x' } } }, stepContext())).status).toBe('USER_FAILED');
    expect((await runtime.run({ http: { url: `${base}/echo`, timeout: 'soon' } }, stepContext())).message).toContain('http.timeout');
  });
});

describe('HostAllowList', () => {
  const list = new HostAllowList(['localhost', '127.0.0.1:8080', '*.example.com', '[::1]']);
  const allows = (u: string): boolean => list.allows(new URL(u));

  it('matches exact hosts, ports, subdomain wildcards and IPv6', () => {
    expect(allows('http://LOCALHOST:1234/x')).toBe(true);
    expect(allows('http://localhost./x')).toBe(true);
    expect(allows('http://127.0.0.1:8080/')).toBe(true);
    expect(allows('http://127.0.0.1/')).toBe(false);
    expect(allows('https://api.example.com/')).toBe(true);
    expect(allows('https://a.b.example.com/')).toBe(true);
    expect(allows('https://example.com/')).toBe(false);
    expect(allows('https://evilexample.com/')).toBe(false);
    expect(allows('https://example.com.evil.org/')).toBe(false);
    expect(allows('http://[::1]:9/')).toBe(true);
    expect(allows('http://localhost@evil.org/')).toBe(false);
  });

  it('refuses everything when empty and rejects malformed entries', () => {
    expect(new HostAllowList([]).allows(new URL('http://localhost/'))).toBe(false);
    expect(() => new HostAllowList(['http://x/'])).toThrow(/not a URL/);
    expect(() => new HostAllowList(['a.*.com'])).toThrow(/wildcard/);
    expect(() => new HostAllowList(['x:99999'])).toThrow(/port/);
  });
});
