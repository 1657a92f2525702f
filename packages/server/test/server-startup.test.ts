import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createServices, type BatonServices } from '../src/services.js';

const dir = mkdtempSync(path.join(tmpdir(), 'baton-startup-'));
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The real services, whose sources (the last to start) wait for `release`, as a Kafka group join does. */
function slowStarting(): { create: typeof createServices; release: () => void; created: () => boolean } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let services: BatonServices | undefined;
  const create: typeof createServices = (deps) => {
    services = createServices(deps);
    const sources = services.sources;
    const start = sources.start.bind(sources);
    sources.start = async () => {
      await gate;
      await start();
    };
    return services;
  };
  return { create, release, created: () => services !== undefined };
}

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

async function probe(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

it('listens before the services have started: /healthz at once, /readyz 503 until they have', async () => {
  const slow = slowStarting();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', BATON_DATA_DIR: path.join(dir, 'data') }, dir);
  server = await startServer(config, { logger: createLogger('warn'), env: {}, createServices: slow.create });
  expect(slow.created()).toBe(true);
  expect(await probe(`${server.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
  expect(await probe(`${server.url}/readyz`)).toEqual({ status: 503, body: { status: 'unavailable', reason: 'services starting' } });
  slow.release();
  await server.servicesStarted;
  expect(await probe(`${server.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
}, 60_000);

it('shuts down cleanly when stopped while the services are still starting', async () => {
  const slow = slowStarting();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', BATON_DATA_DIR: path.join(dir, 'data2') }, dir);
  const { logger, lines } = capturedLogger();
  const s = await startServer(config, { logger, env: {}, createServices: slow.create });
  expect((await probe(`${s.url}/readyz`)).status).toBe(503);
  const closing = s.close();
  slow.release();
  await closing;
  await s.servicesStarted;
  await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  // Services left running after the database closed would log errors from their next poll.
  await new Promise((r) => setTimeout(r, 300));
  expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['services started', 'server stopped']));
  expect(lines.map((l) => l.msg)).not.toContain('server ready');
}, 60_000);

it('closes itself when the services fail to start, and says why', async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', BATON_DATA_DIR: path.join(dir, 'data3') }, dir);
  const { logger, lines } = capturedLogger();
  const failing: typeof createServices = (deps) => {
    const services = createServices(deps);
    services.sources.start = () => Promise.reject(new Error('kafka: no broker answers'));
    return services;
  };
  const s = await startServer(config, { logger, env: {}, createServices: failing });
  await expect(s.servicesStarted).rejects.toThrow('kafka: no broker answers');
  expect(lines.find((l) => l.level === 60)?.msg).toBe('services failed to start; stopping the server');
  expect(lines.map((l) => l.msg)).toContain('server stopped');
  await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
}, 60_000);
