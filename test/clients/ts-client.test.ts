import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, AuthError, BatonClient, ServerUnreachableError, ValidationError, WaitTimeoutError, type PublishResult } from '@baton/client';
import { mulberry32 } from '../support/rng.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { allInstances, noop, push, startServer, TOKENS, workflowInstanceCount, type Server } from './servers.js';

/**
 * @baton/client against real Baton processes on PGlite and on PostgreSQL: dropped connections
 * (a proxy cuts a third of the answers after the server sent them) never store a signal or start
 * a workflow twice; 503 from a gateway and refused connections are retried within the deadline
 * (429: ts-client-rate-limit.test.ts); auth errors are not; the wait helpers time out cleanly.
 */
const FAST = { deadlineMs: 60_000, backoffInitialMs: 10, backoffMaxMs: 200 };

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
    await push(server, { properties: { owner: 'tester' }, workflow: { id: wf, signal_triggers: [{ definitions: { [name]: { match_params: {}, join_keys: [] } } }], steps: [noop] } });
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
      expect(Date.now() - t0).toBeLessThan(6000); // the 1.5 s deadline, not the default (room for a loaded machine)

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
    expect(Date.now() - t0).toBeLessThan(10_000); // timed out, did not hang (a loaded machine may overrun)

    const wf = `ts-gated-${backend}`;
    const gate = `ts-gate/${backend}`;
    await push(server, { properties: { owner: 'tester' }, workflow: { id: wf, steps: [{ step: { ...noop.step, signal_dependencies: [{ name: gate, match_params: {} }] } }] } });
    const started = await client.startWorkflow(wf);
    // Gated on a signal, the run stays IN_PROGRESS once it gets there.
    await expect.poll(async () => (await client.instanceStatus(wf, started.workflow_instance_id)).status).toBe('IN_PROGRESS');
    t0 = Date.now();
    const timeout = await client.waitForInstance(wf, started.workflow_instance_id, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(WaitTimeoutError);
    expect(String(timeout)).toContain('still IN_PROGRESS');
    expect(Date.now() - t0).toBeLessThan(10_000);
    await client.publish(gate);
    const done = await client.waitForInstance(wf, started.workflow_instance_id, { timeoutMs: 60_000 });
    expect(done.status).toBe('SUCCEEDED');
    const again = await client.startWorkflow(wf, { requestId: started.request_id! });
    expect(again.duplicate).toBe(true);
    const lineage = await client.instanceLineage(wf, started.workflow_instance_id);
    expect(lineage.nodes?.some((n) => n.id === `signal:${gate}#1`)).toBe(true);
  }, 120_000);
});
