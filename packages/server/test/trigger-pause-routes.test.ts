import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';

/**
 * Pause and activate over REST on the whole service (PGlite, the real scheduler on the wall clock,
 * the real matcher). The time trigger fires every 2 seconds (the minimum interval is lowered to 1 s).
 */
let s: ServiceApp;
beforeAll(async () => {
  s = await startServiceApp({ BATON_MIN_TRIGGER_INTERVAL: '1s' });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

const send = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) =>
  s.app.inject({ method, url, ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runs(workflowId: string): Promise<Array<{ initiator: { type: string; catch_up?: boolean; fire_time?: string } }>> {
  const r = await s.db.query<{ initiator: string }>('SELECT initiator::text AS initiator FROM baton_workflow_instances WHERE workflow_id = $1 ORDER BY instance_id', [workflowId]);
  return r.rows.map((row) => ({ initiator: JSON.parse(row.initiator) as { type: string; catch_up?: boolean; fire_time?: string } }));
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const definition = (id: string, cron: string | undefined, signal: string | undefined) => ({
  properties: { owner: 'tester' },
  workflow: {
    id,
    ...(cron ? { time_triggers: [{ type: 'CRON', cron, id: 'tick' }] } : {}),
    // Maestro refuses a join key that is also a match param: the trigger matches on day only.
    ...(signal ? { signal_triggers: [{ definitions: { [signal]: { match_params: { day: { value: 1, operator: '>=' } } } } }] } : {}),
    steps: [{ step: { id: 'a', type: 'NoOp' } }],
  },
});

describe('pausing and activating triggers over REST', () => {
  it('a paused time trigger fires nothing; activation starts the latest missed fire (LATEST) and says so first', async () => {
    const wf = 'rest-pause-time';
    expect((await send('POST', '/api/v3/workflows', definition(wf, '*/2 * * * * *', undefined))).statusCode).toBe(200);
    await waitFor('a first time-triggered run', async () => ((await runs(wf)).length > 0 ? true : undefined));

    const paused = await send('POST', `/api/v3/workflows/${wf}/triggers/pause`, { reason: 'upstream outage' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ workflow_id: wf, changed: true, time_triggers: [{ trigger_id: 'tick', status: 'PAUSED', paused: true, pause_reason: 'upstream outage', next_fire_time: null }] });
    const before = (await runs(wf)).length;
    await sleep(4500); // two fire times come due
    expect((await runs(wf)).length).toBe(before);

    const listed = await send('GET', `/api/v3/schedules?workflow_id=${wf}`);
    expect(listed.statusCode).toBe(200);
    const [item] = listed.json().items as Array<Record<string, string | null | boolean>>;
    expect(item).toMatchObject({ paused: true, status: 'PAUSED', next_fire_time: null, timezone: 'UTC' });
    expect(Date.parse(item!.due_fire_time as string)).toBeLessThan(Date.now());
    expect(item!.due_fire_time_local).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);

    const dry = await send('POST', `/api/v3/workflows/${wf}/triggers/activate`, { dry_run: true });
    expect(dry.statusCode).toBe(200);
    const preview = dry.json().preview.time_triggers[0] as { would_start: Array<{ fire_time: string; catch_up: boolean }>; would_skip: number; catch_up: { policy: string } };
    expect(preview.catch_up.policy).toBe('LATEST');
    expect(preview.would_start).toHaveLength(1);
    expect(preview.would_start[0]!.catch_up).toBe(true);
    expect(preview.would_skip).toBeGreaterThanOrEqual(1);
    expect(dry.json()).toMatchObject({ dry_run: true, changed: true, time_triggers: [{ paused: true }] });
    expect((await runs(wf)).length).toBe(before);

    const activatedFrom = Date.now();
    const act = await send('POST', `/api/v3/workflows/${wf}/triggers/activate`, {});
    expect(act.statusCode).toBe(200);
    expect(act.json()).toMatchObject({ dry_run: false, changed: true, time_triggers: [{ paused: false, status: 'ACTIVE', due_fire_time: null }] });
    const started = act.json().preview.time_triggers[0].would_start as Array<{ fire_time: string }>;
    expect(started).toHaveLength(1);
    // The activation started it in its own transaction: it is there at once, as a catch-up.
    const after = await runs(wf);
    expect(after.filter((r) => r.initiator.catch_up === true).map((r) => r.initiator.fire_time)).toEqual([started[0]!.fire_time]);
    expect(Date.parse(act.json().time_triggers[0].next_fire_time as string)).toBeGreaterThanOrEqual(activatedFrom - 1000);
    expect(Date.parse(act.json().time_triggers[0].next_fire_time as string)).toBeGreaterThan(Date.parse(started[0]!.fire_time));
    // And it fires on time again.
    await waitFor('an on-time run after activation', async () => ((await runs(wf)).length > after.length ? true : undefined));
    expect((await send('PUT', `/api/v3/workflows/${wf}/actions/deactivate`)).statusCode).toBe(200);
  }, 60_000);

  it('a paused signal trigger starts nothing for a matching signal; after activation new signals start runs', async () => {
    const wf = 'rest-pause-signal';
    expect((await send('POST', '/api/v3/workflows', definition(wf, undefined, 'rest-pause/ready'))).statusCode).toBe(200);
    const paused = await send('POST', `/api/v3/workflows/${wf}/triggers/pause`, { kind: 'signal' });
    expect(paused.json()).toMatchObject({ changed: true, signal_triggers: [{ paused: true, signals: [{ name: 'rest-pause/ready', join_keys: [], match_params: { day: [{ operator: '>=', value: 1 }] } }] }] });
    expect((await send('POST', '/api/v3/signals', { name: 'rest-pause/ready', params: { day: 1 } })).statusCode).toBe(200);
    await sleep(1500);
    expect(await runs(wf)).toEqual([]);

    const list = await send('GET', '/api/v3/triggers/signals?paused=true&signal=rest-pause%2Fready');
    expect(list.statusCode).toBe(200);
    expect((list.json().items as Array<{ workflow_id: string }>).map((i) => i.workflow_id)).toEqual([wf]);

    const act = await send('POST', `/api/v3/workflows/${wf}/triggers/activate`, { kind: 'signal' });
    expect(act.json()).toMatchObject({ changed: true, preview: { signal_triggers: [{ signal_names: ['rest-pause/ready'], waiting_candidates: 0 }] }, signal_triggers: [{ paused: false }] });
    await sleep(500);
    expect(await runs(wf)).toEqual([]); // the signal from the pause does not count
    expect((await send('POST', '/api/v3/signals', { name: 'rest-pause/ready', params: { day: 2 } })).statusCode).toBe(200);
    await waitFor('a signal-triggered run', async () => ((await runs(wf)).length === 1 ? true : undefined));
  }, 30_000);

  it('answers bad input with 400 naming the field, unknown workflows and triggers with 404, a one-trigger activation under a workflow-wide pause with 409', async () => {
    const wf = 'rest-pause-bad';
    expect((await send('POST', '/api/v3/workflows', definition(wf, '0 0 * * *', 'rest-pause/bad'))).statusCode).toBe(200);
    const cases: Array<[string, string, object | undefined, number, string]> = [
      ['POST', `/api/v3/workflows/${wf}/triggers/pause`, { kind: 'sometimes' }, 400, 'body.kind'],
      ['POST', `/api/v3/workflows/${wf}/triggers/pause`, { trigger_id: 'tick' }, 400, 'body.kind'],
      ['POST', `/api/v3/workflows/${wf}/triggers/activate`, { dry_run: 'yes please' }, 400, 'body.dry_run'],
      ['POST', `/api/v3/workflows/${wf}/triggers/pause`, { knd: 'time' }, 400, 'body.knd'],
      ['GET', '/api/v3/triggers/signals?colour=red', undefined, 400, 'querystring.colour'],
      ['POST', `/api/v3/workflows/${wf}/triggers/pause`, { kind: 'time', trigger_id: 'nope' }, 404, 'body.trigger_id'],
      ['POST', `/api/v3/workflows/${wf}/triggers/pause`, { kind: 'signal', trigger_id: 'nope' }, 404, 'body.trigger_id'],
      ['GET', '/api/v3/schedules?paused=maybe', undefined, 400, 'querystring.paused'],
      ['GET', '/api/v3/schedules?limit=0', undefined, 400, 'querystring.limit'],
      ['GET', '/api/v3/schedules?cursor=not-a-cursor', undefined, 400, 'querystring.cursor'],
      ['GET', '/api/v3/triggers/signals?limit=5000', undefined, 400, 'querystring.limit'],
    ];
    for (const [method, url, body, status, field] of cases) {
      const r = await send(method as 'POST' | 'GET', url, body);
      expect({ url, body, status: r.statusCode }).toEqual({ url, body, status });
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect((r.json().errors as Array<{ field: string }>).map((e) => e.field)).toContain(field);
    }
    const missing = await send('POST', '/api/v3/workflows/no-such-workflow/triggers/pause', {});
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toBe('workflow "no-such-workflow" does not exist');
    expect((await send('POST', '/api/v3/workflows/no-such-workflow/triggers/activate', {})).statusCode).toBe(404);

    expect((await send('POST', `/api/v3/workflows/${wf}/triggers/pause`, { kind: 'time' })).statusCode).toBe(200);
    const conflict = await send('POST', `/api/v3/workflows/${wf}/triggers/activate`, { kind: 'time', trigger_id: 'tick' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().detail).toContain('every time trigger of workflow "rest-pause-bad" is paused');
    // Pausing one kind leaves the other alone.
    const state = await send('POST', `/api/v3/workflows/${wf}/triggers/pause`, { kind: 'time' });
    expect(state.json()).toMatchObject({ changed: false, time_triggers: [{ paused: true }], signal_triggers: [{ paused: false }] });

    // The workflow list shows it paused, and filters on it.
    const pausedList = await send('GET', '/api/v3/workflows?paused=true&limit=1000');
    expect(pausedList.statusCode).toBe(200);
    const pausedItems = pausedList.json().items as Array<{ workflow_id: string; paused: boolean; paused_trigger_kinds: string[] }>;
    expect(pausedItems.find((i) => i.workflow_id === wf)).toMatchObject({ paused: true, paused_trigger_kinds: ['time'] });
    expect(pausedItems.every((i) => i.paused)).toBe(true);
    const unpaused = (await send('GET', '/api/v3/workflows?paused=false&limit=1000')).json().items as Array<{ workflow_id: string; paused: boolean }>;
    expect(unpaused.map((i) => i.workflow_id)).not.toContain(wf);
    expect(unpaused.every((i) => !i.paused)).toBe(true);
    expect(unpaused.length + pausedItems.length).toBe(((await send('GET', '/api/v3/workflows?limit=1000')).json().items as unknown[]).length);
    expect((await send('GET', '/api/v3/workflows?paused=yes')).json().errors).toEqual([expect.objectContaining({ field: 'querystring.paused' })]);
  });

  it('pages both lists with next_cursor in a stable order', async () => {
    for (const id of ['rest-page-c', 'rest-page-a', 'rest-page-b']) expect((await send('POST', '/api/v3/workflows', definition(id, '0 3 * * *', `${id}/sig`))).statusCode).toBe(200);
    for (const url of ['/api/v3/schedules', '/api/v3/triggers/signals']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const r = await send('GET', `${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.statusCode).toBe(200);
        seen.push(...(r.json().items as Array<{ workflow_id: string; trigger_id: string }>).map((i) => `${i.workflow_id}/${i.trigger_id}`));
        cursor = r.json().next_cursor as string | undefined;
      } while (cursor);
      const all = (await send('GET', `${url}?limit=1000`)).json().items as Array<{ workflow_id: string; trigger_id: string }>;
      expect(seen).toEqual(all.map((i) => `${i.workflow_id}/${i.trigger_id}`));
      expect(seen.filter((k) => k.startsWith('rest-page-')).map((k) => k.split('/')[0])).toEqual(['rest-page-a', 'rest-page-b', 'rest-page-c']);
    }
    const [a] = (await send('GET', '/api/v3/schedules?workflow_id=rest-page-a')).json().items as Array<Record<string, unknown>>;
    expect(a).toMatchObject({ expression: '0 3 * * *', status: 'ACTIVE', paused: false, catch_up: { policy: 'LATEST', max_runs: 100 } });
    expect(Date.parse(a!.next_fire_time as string)).toBeGreaterThan(Date.now());
    expect(a!.next_fire_time_local).toMatch(/T03:00:00\+00:00$/);
  });
});
