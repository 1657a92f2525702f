import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';

type Kind = 'pglite' | 'postgres';

const noop = (id: string) => ({ step: { id, type: 'NoOp' } });
const YEARLY = [{ type: 'CRON', cron: '0 3 1 1 *', timezone: 'UTC' }];
const SIGNALS = [{ definitions: { 'orders-ready': {} } }];

describe.each<Kind>(['pglite', 'postgres'])('REST lists on %s', (kind) => {
  let s: ServiceApp;
  let database: Database | undefined;

  const get = async (url: string) => {
    const r = await s.app.inject({ url });
    return { status: r.statusCode, type: String(r.headers['content-type']), body: r.json() as Record<string, unknown> & { items: Array<Record<string, unknown>>; next_cursor?: string | number } };
  };
  const push = async (body: object) => {
    const r = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(r.statusCode, r.body).toBe(200);
  };
  const start = async (wf: string, initiator?: object) => {
    const r = await s.app.inject({ method: 'POST', url: `/api/v3/workflows/${wf}/versions/active/actions/start`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(initiator ? { initiator } : {}) });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().workflow_instance_id as number;
  };
  const waitEnded = async (wf: string, iid: number) => {
    for (let i = 0; i < 400; i++) {
      const r = await get(`/api/v3/workflows/${wf}/instances/${iid}/runs/latest`);
      if (['SUCCEEDED', 'FAILED', 'STOPPED'].includes(String(r.body.status))) return r.body.status;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`${wf}/${iid} did not end`);
  };
  const refused = async (url: string, field: string) => {
    const r = await get(url);
    expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(400);
    expect(r.type).toContain('application/problem+json');
    expect((r.body.errors as Array<{ field: string }>).map((e) => e.field), url).toContain(field);
  };

  beforeAll(async () => {
    if (kind === 'postgres') {
      database = await createTestDatabase();
      s = await startServiceApp({ BATON_TIME_SCALE: '1' }, new PgDb({ connectionString: database.url, max: 6 }));
    } else {
      s = await startServiceApp({ BATON_TIME_SCALE: '1' });
    }
    await push({ properties: { owner: 'alice', tags: ['nightly'] }, workflow: { id: 'etl-orders', name: 'Orders ETL', description: 'loads the orders', time_triggers: YEARLY, steps: [noop('a')] } });
    await push({ properties: { owner: 'bob' }, workflow: { id: 'report', tags: [{ name: 'finance', namespace: 'team' }], signal_triggers: SIGNALS, steps: [noop('a')] } });
    await push({ properties: { owner: 'bob' }, workflow: { id: 'idle', steps: [noop('a')] } });
    await push({ properties: { owner: 'carol' }, workflow: { id: 'flaky', steps: [{ step: { id: 'boom', type: 'NoOp', params: { x: { expression: "1 / params.getFromStep('boom', 'zero')", type: 'LONG' }, zero: { value: 0, type: 'LONG' } } } }] } });
    for (const who of [undefined, { type: 'SIGNAL' }, { type: 'TIME', trigger: 't' }]) await waitEnded('etl-orders', await start('etl-orders', who));
    await waitEnded('report', await start('report', { type: 'SIGNAL' }));
    await waitEnded('flaky', await start('flaky'));
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await database?.drop();
  });

  it('GET /api/v3/workflows: versions, owner, tags, trigger kinds and last run of each workflow', async () => {
    const r = await get('/api/v3/workflows');
    expect(r.status).toBe(200);
    expect(r.body.items.map((w) => w.workflow_id)).toEqual(['etl-orders', 'flaky', 'idle', 'report']);
    const [etl, flaky, idle, report] = r.body.items;
    expect(etl).toMatchObject({ name: 'Orders ETL', active_version_id: 1, latest_version_id: 1, owner: 'alice', tags: ['nightly'], trigger_kinds: ['time'], last_run: { workflow_instance_id: 3, workflow_run_id: 1, status: 'SUCCEEDED' } });
    expect(String((etl!.last_run as Record<string, unknown>).create_time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(flaky).toMatchObject({ last_run: { status: 'FAILED' }, trigger_kinds: [] });
    expect(idle).toMatchObject({ last_run: null, owner: 'bob' });
    expect(report).toMatchObject({ tags: ['finance'], trigger_kinds: ['signal'] });
  });

  it('GET /api/v3/workflows filters by text, owner, tag, trigger kind and last status, and pages', async () => {
    const ids = async (q: string) => (await get(`/api/v3/workflows?${q}`)).body.items.map((w) => w.workflow_id);
    expect(await ids('q=orders')).toEqual(['etl-orders']);
    expect(await ids('q=ETL')).toEqual(['etl-orders']);
    expect(await ids('owner=bob')).toEqual(['idle', 'report']);
    expect(await ids('tag=finance')).toEqual(['report']);
    expect(await ids('trigger=time')).toEqual(['etl-orders']);
    expect(await ids('trigger=signal')).toEqual(['report']);
    expect(await ids('last_status=FAILED')).toEqual(['flaky']);
    expect(await ids('last_status=FAILED,SUCCEEDED')).toEqual(['etl-orders', 'flaky', 'report']);
    expect(await ids('last_status=FAILED&last_status=SUCCEEDED&owner=bob')).toEqual(['report']);
    const p1 = await get('/api/v3/workflows?limit=3');
    expect(p1.body.items).toHaveLength(3);
    const p2 = await get(`/api/v3/workflows?limit=3&cursor=${String(p1.body.next_cursor)}`);
    expect(p2.body.items.map((w) => w.workflow_id)).toEqual(['report']);
    expect(p2.body.next_cursor).toBeUndefined();
  });

  it('GET /api/v3/workflows refuses bad filters with a 400 naming them', async () => {
    await refused('/api/v3/workflows?trigger=cron', 'querystring.trigger');
    await refused('/api/v3/workflows?last_status=DONE', 'querystring.last_status[0]');
    await refused('/api/v3/workflows?limit=1001', 'querystring.limit');
    await refused('/api/v3/workflows?limit=0', 'querystring.limit');
    await refused('/api/v3/workflows?cursor=nonsense!', 'querystring.cursor');
    await refused('/api/v3/workflows?colour=red', 'querystring.colour');
  });

  it('GET /api/v3/instances: newest first, each filter, and 400 on bad ones', async () => {
    const all = await get('/api/v3/instances');
    expect(all.status).toBe(200);
    expect(all.body.items.map((i) => `${String(i.workflow_id)}/${String(i.workflow_instance_id)}`)).toEqual(['flaky/1', 'report/1', 'etl-orders/3', 'etl-orders/2', 'etl-orders/1']);
    const ids = async (q: string) => (await get(`/api/v3/instances?${q}`)).body.items.map((i) => `${String(i.workflow_id)}/${String(i.workflow_instance_id)}`);
    expect(await ids('status=FAILED')).toEqual(['flaky/1']);
    expect(await ids('status=FAILED,STOPPED')).toEqual(['flaky/1']);
    expect(await ids('status=SUCCEEDED&workflow=etl-orders')).toEqual(['etl-orders/3', 'etl-orders/2', 'etl-orders/1']);
    expect(await ids('workflow=report&workflow=flaky')).toEqual(['flaky/1', 'report/1']);
    expect(await ids('initiator=signal')).toEqual(['report/1', 'etl-orders/2']);
    expect(await ids('initiator=TIME,manual&workflow=etl-orders')).toEqual(['etl-orders/3', 'etl-orders/1']);
    expect(await ids('tag=nightly&status=SUCCEEDED')).toEqual(['etl-orders/3', 'etl-orders/2', 'etl-orders/1']);
    expect(await ids('since=1h')).toHaveLength(5);
    expect(await ids('until=1h')).toEqual([]);
    expect(await ids(`since=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await ids('since=2020-01-01&until=2099-01-01T00:00:00%2B02:00')).toHaveLength(5);

    await refused('/api/v3/instances?status=DONE', 'querystring.status[0]');
    await refused('/api/v3/instances?status=FAILED,done', 'querystring.status[0]');
    await refused('/api/v3/instances?initiator=cron', 'querystring.initiator[0]');
    await refused('/api/v3/instances?since=yesterday', 'querystring.since');
    await refused('/api/v3/instances?until=2026-13-45', 'querystring.until');
    await refused('/api/v3/instances?since=1h&until=2h', 'querystring.until');
    await refused('/api/v3/instances?since=0000-01-01', 'querystring.since');
    await refused('/api/v3/instances?since=999999999w', 'querystring.since');
    await refused('/api/v3/instances?tag=a%00b', 'querystring.tag');
    await refused('/api/v3/instances?workflow=a%00b', 'querystring.workflow');
    await refused('/api/v3/workflows?q=%00', 'querystring.q');
    await refused('/api/v3/instances?limit=5000', 'querystring.limit');
    await refused('/api/v3/instances?cursor=abc', 'querystring.cursor');
    await refused(`/api/v3/instances?cursor=${String((await get('/api/v3/workflows?limit=1')).body.next_cursor)}`, 'querystring.cursor');
  });

  it('GET /api/v3/instances pages while instances are started: none that existed is skipped or repeated', async () => {
    const before = (await get('/api/v3/instances?limit=1000')).body.items.map((i) => `${String(i.workflow_id)}/${String(i.workflow_instance_id)}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await get(`/api/v3/instances?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((i) => `${String(i.workflow_id)}/${String(i.workflow_instance_id)}`));
      cursor = page.body.next_cursor as string | undefined;
      await start('idle');
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(before.length / 2));
    expect(seen).toEqual(before);
  });

  it('GET /api/v3/workflows/{id}/instances keeps its integer cursor and takes the same filters', async () => {
    const p1 = await get('/api/v3/workflows/etl-orders/instances?limit=2');
    expect(p1.body).toMatchObject({ workflow_id: 'etl-orders', next_cursor: 2 });
    expect(p1.body.items.map((i) => i.workflow_instance_id)).toEqual([3, 2]);
    const p2 = await get('/api/v3/workflows/etl-orders/instances?limit=2&cursor=2');
    expect(p2.body.items.map((i) => i.workflow_instance_id)).toEqual([1]);
    expect(p2.body.next_cursor).toBeUndefined();
    const sig = await get('/api/v3/workflows/etl-orders/instances?initiator=signal&status=SUCCEEDED,FAILED');
    expect(sig.body.items.map((i) => i.workflow_instance_id)).toEqual([2]);
    expect(sig.body.items[0]).toMatchObject({ initiator: { type: 'SIGNAL' }, workflow_version_id: 1, workflow_run_id: 1 });
    await refused('/api/v3/workflows/etl-orders/instances?cursor=abc', 'querystring.cursor');
    await refused('/api/v3/workflows/etl-orders/instances?status=NOPE', 'querystring.status[0]');
    expect((await get('/api/v3/workflows/nope/instances')).status).toBe(404);
  });

  it('GET /api/v3/workflows/{id}/versions lists versions newest first', async () => {
    await push({ properties: { owner: 'bob' }, workflow: { id: 'idle', description: 'v2', steps: [noop('a')] }, is_active: false });
    const r = await get('/api/v3/workflows/idle/versions');
    expect(r.body).toMatchObject({ workflow_id: 'idle', active_version_id: 1, versions: [{ workflow_version_id: 2, is_active: false }, { workflow_version_id: 1, is_active: true }] });
    expect((await get('/api/v3/workflows/nope/versions')).status).toBe(404);
  });
});
