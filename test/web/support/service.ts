import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../packages/server/src/config.js';
import { createLogger } from '../../../packages/server/src/logger.js';
import { startServer, type RunningServer } from '../../../packages/server/src/server.js';
import { createTestDatabase, type Database } from '../../setup/infra.js';

export interface WebTestService {
  url: string;
  server: RunningServer;
  /** An admin API token: the service runs with auth on, as a deployment does. */
  token: string;
  /** A reader API token of the same service (may read, may not act). */
  readerToken: string;
  /** Authenticated JSON call; throws with the problem document on an error status. */
  call<T = unknown>(method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * The real Baton service (`startServer`: every route plugin, the engine, signals and scheduler)
 * on a free loopback port, over a fresh database on the run's PostgreSQL (`postgres: true`) or an
 * embedded PGlite in a temporary folder.
 */
export async function startWebTestService(opts: { postgres?: boolean; env?: Record<string, string> } = {}): Promise<WebTestService> {
  const database: Database | undefined = opts.postgres ? await createTestDatabase() : undefined;
  const dataDir = database ? undefined : await mkdtemp(path.join(tmpdir(), 'baton-web-'));
  const token = randomBytes(24).toString('hex');
  const readerToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', BATON_TOKENS: `web-test:admin:${token},web-reader:reader:${readerToken}`, ...opts.env };
  if (database) env.DATABASE_URL = database.url;
  if (dataDir) env.BATON_DATA_DIR = dataDir;
  let server: RunningServer;
  try {
    server = await startServer(loadConfig(env), { logger: createLogger('warn'), env: { ...opts.env } });
  } catch (err) {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = server.url;
  return {
    url,
    server,
    token,
    readerToken,
    async call<T>(method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${urlPath}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${urlPath}: HTTP ${res.status} ${text}`);
      return JSON.parse(text) as T;
    },
    async close() {
      await server.close();
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
