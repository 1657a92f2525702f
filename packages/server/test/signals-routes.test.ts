import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, PgDb, type Queryable } from '@baton/engine-core';
import { parseJson, SignalService, signalsMigrations, type StartRequest } from '@baton/signals';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { signalRoutes } from '../src/routes/signals.js';

let database: Database;
let db: PgDb;
let app: FastifyInstance;
let svc: SignalService;

const starter = {
  async startWorkflow(tx: Queryable, req: StartRequest) {
    const r = await tx.query<{ id: number }>(
      `INSERT INTO route_test_starts (request_id) VALUES ($1) ON CONFLICT (request_id) DO UPDATE SET request_id = EXCLUDED.request_id RETURNING id`,
      [req.requestId],
    );
    return { workflowInstanceId: r.rows[0]!.id, created: true };
  },
};

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PgDb({ connectionString: database.url, max: 4 });
  await migrate(db, [signalsMigrations]);
  await db.exec('CREATE TABLE route_test_starts (id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL UNIQUE)');
  svc = new SignalService(db, { starter, expressions: { condition: () => true, dedupKey: () => undefined } });
  app = Fastify();
  await app.register(signalRoutes, { signals: svc });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await db?.close();
  await database?.drop();
});

function post(body: string) {
  return app.inject({ method: 'POST', url: '/api/v3/signals', headers: { 'content-type': 'application/json' }, payload: body });
}

describe('POST /api/v3/signals', () => {
  it('publishes one signal (Maestro request shape) and reports duplicates with 200', async () => {
    const body = JSON.stringify({ name: 'signal_a', params: { foo: 'bat', watermark: 123456, updated_by: 'tester' }, extra: { source: { id: 'test-id' } }, request_id: 'test-request-id', request_time: 1234567 });
    const r1 = await post(body);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toEqual({ name: 'signal_a', seq_id: 1, instance_id: 'test-request-id', duplicate: false });
    const r2 = await post(body);
    expect(r2.statusCode).toBe(200);
    expect(r2.json()).toEqual({ name: 'signal_a', seq_id: 1, instance_id: 'test-request-id', duplicate: true });
    const got = await app.inject({ url: '/api/v3/signals/signal_a/instances/latest' });
    expect(got.json()).toMatchObject({ name: 'signal_a', seq_id: 1, params: { watermark: 123456 }, payload: { extra: { source: { id: 'test-id' } } }, request_time: 1234567 });
  });

  it('keeps integers beyond 2^53 exact in and out', async () => {
    const r = await post('{"name":"db/prod/orders","params":{"watermark":9223372036854775807,"small":9007199254740993}}');
    expect(r.statusCode).toBe(200);
    const got = await app.inject({ url: '/api/v3/signals/db%2Fprod%2Forders/instances/1' });
    expect(got.statusCode).toBe(200);
    expect(got.body).toContain('"watermark":9223372036854775807');
    expect(got.body).toContain('"small":9007199254740993');
    const params = (parseJson(got.body) as { params: Record<string, unknown> }).params;
    expect(params.watermark).toBe(9223372036854775807n);
    const list = await app.inject({ url: '/api/v3/signals/db%2Fprod%2Forders/instances?param.small=9007199254740993' });
    expect((list.json() as { instances: unknown[] }).instances).toHaveLength(1);
    const none = await app.inject({ url: '/api/v3/signals/db%2Fprod%2Forders/instances?param.small=9007199254740992' });
    expect((none.json() as { instances: unknown[] }).instances).toHaveLength(0);
  });

  it('publishes a batch atomically and answers per signal', async () => {
    const signals = Array.from({ length: 3 }, (_, i) => ({ name: 'batch/x', params: { i } }));
    const r = await post(JSON.stringify({ signals: [...signals, signals[0]] }));
    expect(r.statusCode).toBe(200);
    expect((r.json() as { signals: { seq_id: number; duplicate: boolean }[] }).signals.map((s) => [s.seq_id, s.duplicate])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [1, true],
    ]);
  });

  it('rejects bad input with problem+json naming the field, storing nothing', async () => {
    const bad = await post(JSON.stringify({ signals: [{ name: 'bad/x', params: { a: 1 } }, { name: 'bad/x', params: { watermark: 1.5 } }] }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json()).toMatchObject({ status: 400, errors: [{ field: 'signals[1].params.watermark', message: 'must be a string or an integer' }] });
    const one = await post(JSON.stringify({ name: 'a//b' }));
    expect(one.json()).toMatchObject({ status: 400, errors: [{ field: 'name', message: expect.stringContaining('empty path segments') }] });
    const missing = await post(JSON.stringify({ params: {} }));
    expect(missing.json()).toMatchObject({ errors: [{ field: 'name', message: 'is required' }] });
    const syntax = await post('{"name": ');
    expect(syntax.statusCode).toBe(400);
    expect(syntax.headers['content-type']).toContain('application/problem+json');
    const big = await post(JSON.stringify({ signals: Array.from({ length: 1001 }, (_, i) => ({ name: 'bad/x', params: { i } })) }));
    expect(big.statusCode).toBe(400);
    expect(big.json()).toMatchObject({ errors: [{ field: 'signals', message: 'must hold at most 1000 signals (got 1001)' }] });
    const proto = await post('{"name":"bad/x","params":{},"__proto__":{"polluted":true}}');
    expect(proto.statusCode).toBe(400);
    const listed = await app.inject({ url: '/api/v3/signals/bad%2Fx/instances' });
    expect(listed.json()).toEqual({ instances: [] });
  });
});

describe('GET /api/v3/signals/{name}/instances', () => {
  it('filters, pages and answers 404 / 400 as problems', async () => {
    await post(JSON.stringify({ signals: Array.from({ length: 7 }, (_, i) => ({ name: 'page/me', params: { even: i % 2 === 0 ? 'yes' : 'no', i } })) }));
    const p1 = await app.inject({ url: '/api/v3/signals/page%2Fme/instances?param.even=yes&limit=3' });
    const b1 = p1.json() as { instances: { params: { i: number } }[]; next_cursor: string };
    expect(b1.instances.map((x) => x.params.i)).toEqual([6, 4, 2]);
    const p2 = await app.inject({ url: `/api/v3/signals/page%2Fme/instances?params=${encodeURIComponent('{"even":"yes"}')}&limit=3&cursor=${b1.next_cursor}` });
    expect((p2.json() as { instances: { params: { i: number } }[] }).instances.map((x) => x.params.i)).toEqual([0]);
    const future = await app.inject({ url: `/api/v3/signals/page%2Fme/instances?from=${Date.now() + 60_000}` });
    expect(future.json()).toEqual({ instances: [] });
    const badTime = await app.inject({ url: '/api/v3/signals/page%2Fme/instances?from=yesterday' });
    expect(badTime.json()).toMatchObject({ status: 400, errors: [{ field: 'querystring.from' }] });
    const missing = await app.inject({ url: '/api/v3/signals/page%2Fme/instances/99' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    const badSeq = await app.inject({ url: '/api/v3/signals/page%2Fme/instances/abc' });
    expect(badSeq.statusCode).toBe(400);
  });

  it('returns the lineage of an instance', async () => {
    await svc.syncSubscriptions('wf-route', {
      workflowId: 'wf-route',
      version: 1,
      workflow: {
        id: 'wf-route',
        tags: [],
        params: {},
        timeTriggers: [],
        steps: [],
        signalTriggers: [{ definitions: { 'route/sig': { matchParams: {}, joinKeys: [] } }, params: {} }],
      },
    });
    await post(JSON.stringify({ name: 'route/sig', params: { k: 'v' } }));
    await svc.drain();
    const r = await app.inject({ url: '/api/v3/signals/route%2Fsig/instances/1/lineage?depth=2' });
    expect(r.statusCode).toBe(200);
    const g = r.json() as { edges: { from: string; to: string; kind: string }[] };
    expect(g.edges).toEqual([{ from: 'signal:route/sig#1', to: expect.stringMatching(/^workflow:wf-route\/\d+$/), kind: 'TRIGGERED' }]);
    const bad = await app.inject({ url: '/api/v3/signals/route%2Fsig/instances/1/lineage?depth=99' });
    expect(bad.statusCode).toBe(400);
  });
});
