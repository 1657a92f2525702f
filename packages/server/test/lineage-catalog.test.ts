import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate, deactivate, parseWorkflowJson, PgDb, pushWorkflow, type Db } from '@baton/engine-core';
import { lineageCatalog } from '@baton/signals';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';

type Kind = 'pglite' | 'postgres';

const step = (id: string, extra: object = {}) => ({ step: { id, type: 'NoOp', ...extra } });
const out = (name: string) => ({ name, params: {} });
const dep = (name: string) => ({ name, match_params: {} });

/**
 * cat-a (cron, every second) emits cat/raw → triggers cat-b, which emits cat/clean → unblocks a
 * step of cat-c, which emits cat/report. cyc-x and cyc-y feed each other (a cycle:
 * never started here, it would run for ever). plain uses no signal.
 */
const WORKFLOWS = [
  { id: 'cat-a', name: 'Ingest', time_triggers: [{ type: 'CRON', cron: '* * * * * *', timezone: 'Europe/Paris' }], steps: [step('a1', { signal_outputs: [out('cat/raw')] })] },
  { id: 'cat-b', signal_triggers: [{ definitions: { 'cat/raw': {} } }], steps: [step('b1', { signal_outputs: [out('cat/clean')] })] },
  { id: 'cat-c', steps: [step('c1', { signal_dependencies: [dep('cat/clean')] }), step('c2', { signal_dependencies: [dep('cat/clean')], signal_outputs: [out('cat/report')] })] },
  { id: 'cyc-x', signal_triggers: [{ definitions: { 'cyc/ping': {} } }], steps: [step('x1', { signal_outputs: [out('cyc/pong')] })] },
  { id: 'cyc-y', signal_triggers: [{ definitions: { 'cyc/pong': {} } }], steps: [step('y1', { signal_outputs: [out('cyc/ping')] })] },
  { id: 'plain', steps: [step('p1')] },
];

interface Graph {
  nodes: Array<{ id: string; type: string } & Record<string, unknown>>;
  edges: Array<{ from: string; to: string; kind: string; steps?: string[] }>;
  focus: string | null;
  depth: number | null;
  truncated: boolean;
}

const ids = (g: Graph): string[] => g.nodes.map((n) => n.id).sort();
const edgeSet = (g: Graph): string[] => g.edges.map((e) => `${e.from} -${e.kind}-> ${e.to}`).sort();

describe.each<Kind>(['pglite', 'postgres'])('lineage catalog on %s', (kind) => {
  let s: ServiceApp;
  let database: Database | undefined;

  const get = async (url: string) => {
    const r = await s.app.inject({ url });
    return { status: r.statusCode, type: String(r.headers['content-type']), body: r.json() };
  };
  const refused = async (url: string, status: number, field?: string) => {
    const r = await get(url);
    expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(status);
    expect(r.type).toContain('application/problem+json');
    if (field) expect((r.body.errors as Array<{ field: string }>).map((e) => e.field), url).toContain(field);
    return r.body as { detail: string };
  };

  beforeAll(async () => {
    const env = { BATON_TIME_SCALE: '1', BATON_MIN_TRIGGER_INTERVAL: '1' };
    if (kind === 'postgres') {
      database = await createTestDatabase();
      s = await startServiceApp(env, new PgDb({ connectionString: database.url, max: 6 }));
    } else {
      s = await startServiceApp(env);
    }
    for (const workflow of WORKFLOWS) {
      const r = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ properties: { owner: 'tester' }, workflow }) });
      expect(r.statusCode, r.body).toBe(200);
    }
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await database?.drop();
  });

  it('draws every active workflow: triggers, dependencies, outputs and time triggers', async () => {
    const r = await get('/api/v3/lineage/catalog');
    expect(r.status).toBe(200);
    const g = r.body as Graph;
    expect(g.focus).toBeNull();
    expect(g.truncated).toBe(false);
    expect(edgeSet(g)).toEqual(
      [
        'time:cat-a#0 -FIRES-> workflow:cat-a',
        'workflow:cat-a -EMITS-> signal:cat/raw',
        'signal:cat/raw -TRIGGERS-> workflow:cat-b',
        'workflow:cat-b -EMITS-> signal:cat/clean',
        'signal:cat/clean -UNBLOCKS-> workflow:cat-c',
        'workflow:cat-c -EMITS-> signal:cat/report',
        'signal:cyc/ping -TRIGGERS-> workflow:cyc-x',
        'workflow:cyc-x -EMITS-> signal:cyc/pong',
        'signal:cyc/pong -TRIGGERS-> workflow:cyc-y',
        'workflow:cyc-y -EMITS-> signal:cyc/ping',
      ].sort(),
    );
    // Two steps of cat-c wait for cat/clean: one edge naming both.
    expect(g.edges.find((e) => e.kind === 'UNBLOCKS')!.steps).toEqual(['c1', 'c2']);
    expect(g.nodes.find((n) => n.id === 'time:cat-a#0')).toEqual({ id: 'time:cat-a#0', type: 'time_trigger', workflow_id: 'cat-a', trigger_index: 0, trigger_type: 'CRON', expression: '* * * * * *', timezone: 'Europe/Paris', disabled: false });
    expect(g.nodes.find((n) => n.id === 'workflow:plain')).toMatchObject({ type: 'workflow' });
    expect(g.nodes.find((n) => n.id === 'workflow:cat-a')).toEqual({ id: 'workflow:cat-a', type: 'workflow', workflow_id: 'cat-a', name: 'Ingest', version: 1 });
  });

  it('centres on a workflow, depth hops up- and downstream', async () => {
    const one = (await get('/api/v3/lineage/catalog?workflow=cat-b&depth=1')).body as Graph;
    expect(one.focus).toBe('workflow:cat-b');
    expect(one.depth).toBe(1);
    expect(ids(one)).toEqual(['signal:cat/clean', 'signal:cat/raw', 'workflow:cat-b']);
    const two = (await get('/api/v3/lineage/catalog?workflow=cat-b&depth=2')).body as Graph;
    // cat-a comes with its time trigger; nothing of the cycle.
    expect(ids(two)).toEqual(['signal:cat/clean', 'signal:cat/raw', 'time:cat-a#0', 'workflow:cat-a', 'workflow:cat-b', 'workflow:cat-c']);
    expect(edgeSet(two)).not.toContain('workflow:cat-c -EMITS-> signal:cat/report');
    const deep = (await get('/api/v3/lineage/catalog?workflow=cat-c&depth=20')).body as Graph;
    expect(ids(deep)).toEqual(['signal:cat/clean', 'signal:cat/raw', 'signal:cat/report', 'time:cat-a#0', 'workflow:cat-a', 'workflow:cat-b', 'workflow:cat-c']);
  });

  it('walks a cycle once, at any depth', async () => {
    const g = (await get('/api/v3/lineage/catalog?signal=cyc/ping&depth=20')).body as Graph;
    expect(g.focus).toBe('signal:cyc/ping');
    expect(ids(g)).toEqual(['signal:cyc/ping', 'signal:cyc/pong', 'workflow:cyc-x', 'workflow:cyc-y']);
    expect(g.edges).toHaveLength(4);
  });

  it('the read model cuts a graph at its node limit and says so', async () => {
    const g = await lineageCatalog(s.db, { maxNodes: 3 });
    expect(g.nodes).toHaveLength(3);
    expect(g.truncated).toBe(true);
    const f = await lineageCatalog(s.db, { focus: { signal: 'cyc/ping' }, depth: 5, maxNodes: 2 });
    expect(f.nodes.map((n) => n.id)).toContain('signal:cyc/ping');
    expect(f.nodes).toHaveLength(2);
    expect(f.truncated).toBe(true);
  });

  it('refuses bad filters with a problem naming the field', async () => {
    await refused('/api/v3/lineage/catalog?workflow=cat-a&signal=cat/raw', 400, 'querystring');
    await refused('/api/v3/lineage/catalog?depth=2', 400, 'querystring.depth');
    await refused('/api/v3/lineage/catalog?workflow=cat-a&depth=0', 400);
    await refused('/api/v3/lineage/catalog?workflow=cat-a&depth=21', 400);
    await refused('/api/v3/lineage/catalog?workflow=cat-a&depht=2', 400, 'querystring.depht');
    await refused('/api/v3/lineage/catalog?signal=a%2F%2Fb', 400, 'querystring.signal');
    expect((await refused('/api/v3/lineage/catalog?workflow=nope', 404)).detail).toContain('"nope"');
    expect((await refused('/api/v3/lineage/catalog?signal=nobody/uses', 404)).detail).toContain('nobody/uses');
  });

  it("shows the time trigger fire that started a run in the run's lineage and downstream of it", async () => {
    // cat-a fires every second; its first run emits cat/raw, which starts cat-b.
    let lineage: Graph | undefined;
    for (let i = 0; i < 200 && !lineage; i++) {
      const r = await get('/api/v3/workflows/cat-b/instances/1/lineage?depth=3');
      if (r.status === 200) lineage = r.body as Graph;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(lineage, 'cat-b #1 never started').toBeDefined();
    const fire = lineage!.nodes.find((n) => n.type === 'time_trigger');
    expect(fire).toMatchObject({ type: 'time_trigger', workflow_id: 'cat-a', expression: '* * * * * *', timezone: 'Europe/Paris' });
    expect(String(fire!.fire_time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    const fired = lineage!.edges.find((e) => e.kind === 'FIRED')!;
    expect(fired.from).toBe(fire!.id);
    const run = lineage!.nodes.find((n) => n.id === fired.to)!;
    expect(run).toMatchObject({ type: 'workflow_instance', workflow_id: 'cat-a' });
    expect(lineage!.edges.some((e) => e.kind === 'EMITTED' && e.from.startsWith(`step:cat-a/${run.workflow_instance_id}/a1/`))).toBe(true);

    // The time-triggered run's own lineage: the fire is upstream of it.
    const own = (await get(`/api/v3/workflows/cat-a/instances/${run.workflow_instance_id}/lineage`)).body as Graph;
    expect(own.edges).toContainEqual({ from: fire!.id, to: `workflow:cat-a/${run.workflow_instance_id}`, kind: 'FIRED' });
    // A run started by hand has no fire.
    const manual = await s.app.inject({ method: 'POST', url: '/api/v3/workflows/plain/versions/active/actions/start', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(manual.statusCode, manual.body).toBe(200);
    const plain = (await get(`/api/v3/workflows/plain/instances/${manual.json().workflow_instance_id}/lineage`)).body as Graph;
    expect(plain.nodes.some((n) => n.type === 'time_trigger')).toBe(false);
  }, 60_000);

  it('follows every definition change, also one made by another process', async () => {
    // On PostgreSQL the changes go through a second connection pool, as another Baton process
    // would make them: this process hears of them only through the database.
    const other: Db = kind === 'postgres' ? new PgDb({ connectionString: database!.url, max: 2 }) : s.db;
    const catalog = async (url = '/api/v3/lineage/catalog') => (await get(url)).body as Graph;
    try {
      const before = await catalog();
      expect(edgeSet(before)).toContain('workflow:cat-b -EMITS-> signal:cat/clean');

      // A new version of cat-b: b1 now emits cat/fresh.
      const v2 = parseWorkflowJson(JSON.stringify({ workflow: { ...WORKFLOWS[1], steps: [step('b1', { signal_outputs: [out('cat/fresh')] })] } }));
      if (!v2.ok) throw new Error(JSON.stringify(v2.errors));
      await pushWorkflow(other, v2.value);
      const pushed = await catalog();
      expect(edgeSet(pushed)).toContain('workflow:cat-b -EMITS-> signal:cat/fresh');
      expect(edgeSet(pushed)).not.toContain('workflow:cat-b -EMITS-> signal:cat/clean');
      expect(pushed.nodes.find((n) => n.id === 'workflow:cat-b')).toMatchObject({ version: 2 });
      expect(ids(await catalog('/api/v3/lineage/catalog?signal=cat/fresh&depth=1'))).toEqual(['signal:cat/fresh', 'workflow:cat-b']);

      // Deactivated: gone, and no longer a focus; activated again (the same state as before): back.
      await deactivate(other, 'cat-c');
      expect(ids(await catalog())).not.toContain('workflow:cat-c');
      await refused('/api/v3/lineage/catalog?workflow=cat-c', 404);
      await activate(other, 'cat-c', 1);
      expect(ids(await catalog('/api/v3/lineage/catalog?workflow=cat-c&depth=1'))).toEqual(['signal:cat/clean', 'signal:cat/report', 'workflow:cat-c']);

      // A properties change alone (cat-a's time triggers disabled) shows on its time trigger node.
      const a = parseWorkflowJson(JSON.stringify({ properties: { time_trigger_disabled: true }, workflow: WORKFLOWS[0] }));
      if (!a.ok) throw new Error(JSON.stringify(a.errors));
      await pushWorkflow(other, a.value);
      expect((await catalog()).nodes.find((n) => n.id === 'time:cat-a#0')).toMatchObject({ disabled: true });
    } finally {
      if (other !== s.db) await other.close();
    }
  }, 60_000);
});
