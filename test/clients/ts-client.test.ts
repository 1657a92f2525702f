import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, AuthError, BatonClient, RateLimitedError, ServerUnreachableError, ValidationError, WaitTimeoutError, type PublishResult } from '@baton/client';
import { spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from '../../packages/server/test/helpers/baton-process.js';
import { createTestDatabase, type Database } from '../setup/infra.js';
import { mulberry32 } from '../support/rng.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * @baton/client against real Baton processes on PGlite and on PostgreSQL: dropped connections
 * (a proxy cuts a third of the answers after the server sent them) never store a signal or start
 * a workflow twice; 503 from a gateway, refused connections and 429 are retried within the
 * deadline; auth errors are not; the wait helpers time out cleanly.
 */
const TOKENS = { admin: 'tsclient-admin-token-0123456789', publisher: 'tsclient-publisher-token-0123456789', reader: 'tsclient-reader-token-0123456789' };
const TOKEN_SETTING = Object.entries(TOKENS).map(([role, t]) => `ts-${role}:${role}:${t}`).join(',');
const FAST = { deadlineMs: 60_000, backoffInitialMs: 10, backoffMaxMs: 200 };

interface Server {
  proc: BatonProcess;
  url: string;
  port: number;
  close(): Promise<void>;
}

async function startServer(backend: 'pglite' | 'postgres', env: Record<string, string> = {}): Promise<Server> {
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

async function push(server: Server, definition: unknown): Promise<void> {
  const admin = new BatonClient(server.url, TOKENS.admin);
  await admin.request('POST', '/api/v3/workflows', { body: JSON.stringify(definition) });
}

const noop = { step: { id: 'only', type: 'NoOp', transition: { successors: {} } } };

async function allInstances(server: Server, name: string): Promise<Array<{ instance_id: string; params: Record<string, unknown> }>> {
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

async function workflowInstanceCount(server: Server, wf: string): Promise<number> {
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

/** Publishes `count` signals (one by one, then batches of 50 from `batchFrom`) through a proxy dropping a third of the answers; checks each is stored once. */
async function publishThroughDrops(server: Server, name: string, count: number, batchFrom: number, seed: number): Promise<PublishResult[]> {
  const proxy = await TcpProxy.start(server.port, { dropRate: 0.33, random: mulberry32(seed) });
  const client = new BatonClient(proxy.url, TOKENS.publisher, 30_000, { retry: FAST });
  const results: PublishResult[] = [];
  try {
    for (let i = 0; i < batchFrom; i++) results.push(await client.publish(name, { n: i }));
    for (let start = batchFrom; start < count; start += 50) {
      results.push(...(await client.publishBatch(Array.from({ length: Math.min(50, count - start) }, (_, k) => ({ name, params: { n: start + k } })))));
    }
  } finally {
    await proxy.close();
  }
  expect(proxy.dropped).toBeGreaterThanOrEqual(count / 10);
  expect(results).toHaveLength(count);
  expect(results.filter((r) => r.duplicate)).toEqual([]);
  const stored = await allInstances(server, name);
  const perParam = new Map<number, number>();
  for (const s of stored) perParam.set(Number(s.params.n), (perParam.get(Number(s.params.n)) ?? 0) + 1);
  const duplicates = [...perParam.values()].reduce((sum, c) => sum + c - 1, 0);
  expect(duplicates).toBe(0);
  expect([...perParam.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
  expect(new Set(results.map((r) => r.instance_id))).toEqual(new Set(stored.map((s) => s.instance_id)));
  return results;
}

describe.each(['pglite', 'postgres'] as const)('@baton/client on %s', (backend) => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer(backend);
  }, 180_000);
  afterAll(async () => server?.close());

  it('1,000 publishes through dropped connections store each signal once', async () => {
    await publishThroughDrops(server, `ts-drop/orders-${backend}`, 1000, 600, 11);
  }, 300_000);

  it('dropped connections start each triggered workflow once', async () => {
    const name = `ts-drop/trigger-${backend}`;
    const wf = `ts-drop-${backend}`;
    await push(server, { workflow: { id: wf, signal_triggers: [{ definitions: { [name]: { match_params: {}, join_keys: [] } } }], steps: [noop] } });
    await publishThroughDrops(server, name, 200, 100, 12);
    const end = Date.now() + 120_000;
    while ((await workflowInstanceCount(server, wf)) < 200 && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await workflowInstanceCount(server, wf)).toBe(200);
  }, 300_000);

  it('retries a gateway 503 until the server is back, and gives up at the deadline', async () => {
    const proxy = await TcpProxy.start(undefined);
    try {
      const short = new BatonClient(proxy.url, TOKENS.publisher, 30_000, { retry: { deadlineMs: 1500, backoffInitialMs: 50, backoffMaxMs: 200 } });
      const t0 = Date.now();
      const err = await short.publish(`ts-gateway/${backend}`, { k: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(503);
      expect((err as ApiError).attempts).toBeGreaterThanOrEqual(3);
      expect(Date.now() - t0).toBeLessThan(3000);

      const before = proxy.answered503;
      const patient = new BatonClient(proxy.url, TOKENS.publisher, 30_000, { retry: { deadlineMs: 30_000, backoffInitialMs: 50, backoffMaxMs: 500 } });
      const pending = patient.publish(`ts-gateway/${backend}`, { k: 2 });
      await new Promise((r) => setTimeout(r, 1000));
      proxy.upstreamPort = server.port;
      const res = await pending;
      expect(res.duplicate).toBe(false);
      expect(proxy.answered503).toBeGreaterThan(before);
      expect((await allInstances(server, `ts-gateway/${backend}`)).map((s) => s.params)).toEqual([{ k: 2 }]);
    } finally {
      await proxy.close();
    }
  });

  it('a refused connection is retried until the deadline; request() alone does not retry', async () => {
    const proxy = await TcpProxy.start(undefined);
    const port = proxy.port;
    await proxy.close();
    const client = new BatonClient(`http://127.0.0.1:${port}`, undefined, 30_000, { retry: { deadlineMs: 1000, backoffInitialMs: 50, backoffMaxMs: 200 } });
    const err = await client.publish('x/y', { a: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerUnreachableError);
    expect((err as ServerUnreachableError).attempts).toBeGreaterThanOrEqual(2);
    const once = await client.get('/readyz').catch((e: unknown) => e);
    expect(once).toBeInstanceOf(ServerUnreachableError);
    expect((once as ServerUnreachableError).attempts).toBe(1);
  });

  it('auth errors are not retried; field errors are named', async () => {
    const t0 = Date.now();
    const anonymous = await new BatonClient(server.url, undefined).publish(`ts-auth/${backend}`, { a: 1 }).catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(AuthError);
    expect((anonymous as AuthError).status).toBe(401);
    const reader = new BatonClient(server.url, TOKENS.reader);
    const forbidden = await reader.publish(`ts-auth/${backend}`, { a: 1 }).catch((e: unknown) => e);
    expect((forbidden as AuthError).status).toBe(403);
    expect(await reader.signalInstances(`ts-auth/${backend}`)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5000);
    const invalid = await new BatonClient(server.url, TOKENS.admin).publishBatch([{ name: 'ok/x' }, { name: '', params: { x: [1] as unknown as string } }]).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationError);
    expect((invalid as ValidationError).errors.map((e) => e.field).sort()).toEqual(['signals[1].name', 'signals[1].params.x']);
  });

  it('keeps 64-bit params exact and makes explicit request ids idempotent', async () => {
    const client = new BatonClient(server.url, TOKENS.admin);
    const big = 9223372036854775807n;
    const first = await client.publish(`ts-exact/${backend}`, { big }, { requestId: `ts-exact-${backend}`, payload: { rows: 1 } });
    const again = await client.publish(`ts-exact/${backend}`, { big }, { requestId: `ts-exact-${backend}` });
    expect([first.duplicate, again.duplicate]).toEqual([false, true]);
    const got = await client.waitForSignal(`ts-exact/${backend}`, { match: { big }, timeoutMs: 5000 });
    expect(got.params).toEqual({ big });
    expect(got.payload).toEqual({ rows: 1 });
  });

  it('wait helpers time out cleanly and return what ended', async () => {
    const client = new BatonClient(server.url, TOKENS.admin);
    let t0 = Date.now();
    await expect(client.waitForSignal(`ts-never/${backend}`, { match: { d: 1 }, timeoutMs: 1500 })).rejects.toBeInstanceOf(WaitTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - t0).toBeLessThan(3500);

    const wf = `ts-gated-${backend}`;
    const gate = `ts-gate/${backend}`;
    await push(server, { workflow: { id: wf, steps: [{ step: { ...noop.step, signal_dependencies: [{ name: gate, match_params: {} }] } }] } });
    const started = await client.startWorkflow(wf);
    t0 = Date.now();
    const timeout = await client.waitForInstance(wf, started.workflow_instance_id, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(WaitTimeoutError);
    expect(String(timeout)).toContain('still IN_PROGRESS');
    expect(Date.now() - t0).toBeLessThan(4000);
    await client.publish(gate);
    const done = await client.waitForInstance(wf, started.workflow_instance_id, { timeoutMs: 60_000 });
    expect(done.status).toBe('SUCCEEDED');
    const again = await client.startWorkflow(wf, { requestId: started.request_id! });
    expect(again.duplicate).toBe(true);
    const lineage = await client.instanceLineage(wf, started.workflow_instance_id);
    expect(lineage.nodes?.some((n) => n.id === `signal:${gate}#1`)).toBe(true);
  }, 120_000);
});

describe('@baton/client and the publish rate limit', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer('pglite', { BATON_PUBLISH_RATE_LIMIT: '3' });
  }, 180_000);
  afterAll(async () => server?.close());

  it('429: fails at once when Retry-After is beyond the deadline, waits it out otherwise', async () => {
    const name = 'ts-limited/x';
    const short = new BatonClient(server.url, TOKENS.publisher, 30_000, { retry: { deadlineMs: 5000 } });
    for (let i = 0; i < 3; i++) await short.publish(name, { i });
    const t0 = Date.now();
    const err = await short.publish(name, { i: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(Date.now() - t0).toBeLessThan(2000);
    const wait = (err as RateLimitedError).retryAfterSeconds!;
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);

    const patient = new BatonClient(server.url, TOKENS.publisher, 30_000, { retry: { deadlineMs: 90_000 } });
    const t1 = Date.now();
    expect((await patient.publish(name, { i: 3 })).duplicate).toBe(false);
    expect(Date.now() - t1).toBeGreaterThanOrEqual((wait - 3) * 1000);
    expect((await allInstances(server, name)).map((s) => s.params.i).sort()).toEqual([0, 1, 2, 3]);
  }, 120_000);
});
