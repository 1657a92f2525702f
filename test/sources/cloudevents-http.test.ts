import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, PGliteDb } from '@baton/engine-core';
import { SignalService, signalsMigrations, stringifyJson } from '@baton/signals';
import { CloudEventsIngestor } from '../../packages/signals/src/sources/cloudevents-ingest.js';
import { cloudEventsRoutes } from '../../packages/server/src/routes/cloudevents.js';

let db: PGliteDb;
let svc: SignalService;
let app: FastifyInstance;

beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [signalsMigrations]);
  svc = new SignalService(db, {
    starter: {
      startWorkflow() {
        throw new Error('no workflow subscribes in this test');
      },
    },
    expressions: { condition: () => true, dedupKey: () => undefined },
  });
  app = Fastify();
  await app.register(cloudEventsRoutes, { cloudevents: new CloudEventsIngestor(svc) });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await db?.close();
});

function post(contentType: string, body: string) {
  return app.inject({ method: 'POST', url: '/api/v3/cloudevents', headers: { 'content-type': contentType }, payload: body });
}

const event = (id: string, data: unknown, extra: object = {}) => ({ specversion: '1.0', id, source: '//orders/service', type: 'orders/created', time: '2026-01-02T03:04:05Z', datacontenttype: 'application/json', data, ...extra });

describe('POST /api/v3/cloudevents', () => {
  it('stores a structured-mode event as a signal: type names it, data fields are params, source+id dedupe', async () => {
    const body = stringifyJson(event('e-1', { order_id: 9007199254740993n, region: 'eu', total: 12.5, lines: [1, 2] }));
    const r1 = await post('application/cloudevents+json; charset=utf-8', body);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toMatchObject({ name: 'orders/created', duplicate: false });
    const again = await post('application/cloudevents+json', body);
    expect(again.json()).toMatchObject({ duplicate: true, seq_id: r1.json().seq_id });
    const inst = await svc.getInstance('orders/created', 'latest');
    expect(inst.params).toEqual({ order_id: 9007199254740993n, region: 'eu' });
    expect(inst.payload).toMatchObject({ data: { total: 12.5, lines: [1, 2] }, cloudevent: { id: 'e-1', source: '//orders/service', type: 'orders/created' } });
    expect(inst.request_id).toBe('ce:16://orders/service:e-1');
  });

  it('stores a batch atomically and names the event at fault when one is invalid', async () => {
    const ok = await post('application/cloudevents-batch+json', JSON.stringify([event('b-1', { n: 1 }), event('b-2', { n: 2 }, { type: 'orders/shipped' })]));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().signals.map((s: { name: string }) => s.name)).toEqual(['orders/created', 'orders/shipped']);

    const bad = await post('application/cloudevents-batch+json', JSON.stringify([event('b-3', { n: 3 }), { specversion: '1.0', id: 'b-4', type: 'x' }, event('b-5', {}, { type: 'bad//name' })]));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([
      { field: 'events[1]', message: 'CloudEvent is missing required attribute source' },
      { field: 'events[2].name', message: 'must not have empty path segments (leading, trailing or doubled "/")' },
    ]);
    const page = await svc.listInstances('orders/created');
    expect(page.instances.some((i) => i.request_id?.endsWith(':b-3'))).toBe(false);
  });

  it('rejects other media types, wrong spec versions and non-array batches', async () => {
    expect((await post('text/plain', 'hello')).statusCode).toBe(415);
    const v03 = await post('application/cloudevents+json', JSON.stringify({ ...event('v-1', {}), specversion: '0.3' }));
    expect(v03.statusCode).toBe(400);
    expect(v03.json().detail).toMatch(/only CloudEvents 1.0/);
    expect((await post('application/cloudevents-batch+json', JSON.stringify(event('v-2', {})))).statusCode).toBe(400);
    expect((await post('application/cloudevents+json', '{"specversion":')).statusCode).toBe(400);
  });
});
