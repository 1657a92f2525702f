import { BatonClient } from '@baton/client';
import { spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from '../../packages/server/test/helpers/baton-process.js';
import { createTestDatabase, type Database } from '../setup/infra.js';

/** Real Baton processes for the @baton/client tests, with admin, publisher and reader tokens. */
export const TOKENS = { admin: 'tsclient-admin-token-0123456789', publisher: 'tsclient-publisher-token-0123456789', reader: 'tsclient-reader-token-0123456789' };
const TOKEN_SETTING = Object.entries(TOKENS).map(([role, t]) => `ts-${role}:${role}:${t}`).join(',');

export interface Server {
  proc: BatonProcess;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(backend: 'pglite' | 'postgres', env: Record<string, string> = {}): Promise<Server> {
  const dir = await tempDir('baton-tsclient-');
  let database: Database | undefined;
  const settings: Record<string, string> = { PORT: '0', LOG_LEVEL: 'info', BATON_TOKENS: TOKEN_SETTING, BATON_PUBLISH_RATE_LIMIT: '0', BATON_DATA_DIR: `${dir.path}/data`, ...env };
  if (backend === 'postgres') {
    database = await createTestDatabase();
    settings.DATABASE_URL = database.url;
  }
  const proc = spawnBaton(settings);
  await waitUntilReady(proc, 120_000);
  const url = await proc.ready;
  return {
    proc,
    url,
    port: Number(new URL(url).port),
    async close() {
      await stop(proc);
      await database?.drop();
      await dir.remove();
    },
  };
}

export async function push(server: Server, definition: unknown): Promise<void> {
  const admin = new BatonClient(server.url, TOKENS.admin);
  await admin.request('POST', '/api/v3/workflows', { body: JSON.stringify(definition) });
}

export const noop = { step: { id: 'only', type: 'NoOp', transition: { successors: {} } } };

export async function allInstances(server: Server, name: string): Promise<Array<{ instance_id: string; params: Record<string, unknown> }>> {
  const admin = new BatonClient(server.url, TOKENS.admin);
  const out: Array<{ instance_id: string; params: Record<string, unknown> }> = [];
  let cursor: string | undefined;
  do {
    const page = (await admin.get(`/api/v3/signals/${encodeURIComponent(name)}/instances`, { limit: 1000, cursor })).body as { instances: typeof out; next_cursor?: string };
    out.push(...page.instances);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

export async function workflowInstanceCount(server: Server, wf: string): Promise<number> {
  const admin = new BatonClient(server.url, TOKENS.admin);
  let count = 0;
  let cursor: number | undefined;
  do {
    const page = (await admin.get(`/api/v3/workflows/${wf}/instances`, { limit: 1000, cursor })).body as { items: unknown[]; next_cursor?: number };
    count += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return count;
}
