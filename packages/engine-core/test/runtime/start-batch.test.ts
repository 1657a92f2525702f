import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '../../src/db/pg-db.js';
import { getVersion, pushWorkflow } from '../../src/definition/store.js';
import { Engine } from '../../src/runtime/engine.js';
import { bulkStoreDefinitions, type VersionKey } from '../../src/runtime/start-definitions.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import { StartError, type StartWorkflowRequest } from '../../src/runtime/start.js';
import type { StepRuntime, StepRuntimeContext } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { assertTimelinesMonotone, testEngine, until, workflow } from './support/engine.js';
import { Releases } from './support/releases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds each attempt until the test releases it by `<workflow>/<instance>`. */
class Gate implements StepRuntime {
  readonly running = new Set<string>();
  readonly started: string[] = [];
  private readonly releases = new Releases();

  async run(_params: unknown, ctx: StepRuntimeContext) {
    const key = `${ctx.workflowId}/${ctx.instanceId}`;
    this.running.add(key);
    this.started.push(key);
    try {
      await this.releases.wait(key, ctx.signal);
      return { status: 'SUCCEEDED' as const };
    } finally {
      this.running.delete(key);
    }
  }

  release(key: string): void {
    this.releases.release(key);
  }
}

function noOpWf(id: string, runStrategy = 'parallel') {
  return workflow({ properties: { run_strategy: runStrategy }, workflow: { id, params: { n: { value: 0, type: 'LONG' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } });
}

describe.each<DbKind>(['pglite', 'postgres'])('startWorkflowsInTx on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();
  const gate = new Gate();

  beforeAll(async () => {
    t = await openTestDb(kind);
    for (const id of ['alpha', 'beta', 'gamma', 'delta', 'rolled', 'plain-1', 'plain-2', 'plain-3', 'raced']) defs.add(noOpWf(id));
    defs.add(workflow({ properties: { run_strategy: 'sequential' }, workflow: { id: 'seq', steps: [{ step: { id: 'g', type: 'Gate' } }] } }));
    defs.add(workflow({ properties: { run_strategy: 'first_only' }, workflow: { id: 'first', steps: [{ step: { id: 'g', type: 'Gate' } }] } }));
    ({ engine, errors } = testEngine(t.db, defs));
    engine.registerRuntime('Gate', gate);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  const inQueueTx = (reqs: StartWorkflowRequest[]) => engine.queue.tx((tx, outbox) => engine.startWorkflowsInTx(tx, reqs, { outbox }));
  const counter = async (workflowId: string) =>
    Number((await t.db.query<{ n: number }>('SELECT last_instance_id AS n FROM baton_workflow_state WHERE workflow_id = $1', [workflowId])).rows[0]?.n ?? 0);
  const instanceCount = async (workflowId: string) =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id = $1', [workflowId])).rows[0]!.n;

  it('starts a batch of mixed workflows in request order, numbering each workflow on its own', async () => {
    const res = await inQueueTx([
      { workflowId: 'alpha', requestId: 'a1', params: { n: 1 } },
      { workflowId: 'beta', requestId: 'b1', initiator: { type: 'SIGNAL', note: 'x' } },
      { workflowId: 'alpha', requestId: 'a2', params: { n: 2 } },
      { workflowId: 'beta', requestId: 'b2' },
    ]);
    expect(res.map((r) => [r.workflowId, r.workflowInstanceId, r.requestId, r.duplicate, r.status])).toEqual([
      ['alpha', 1, 'a1', false, 'CREATED'],
      ['beta', 1, 'b1', false, 'CREATED'],
      ['alpha', 2, 'a2', false, 'CREATED'],
      ['beta', 2, 'b2', false, 'CREATED'],
    ]);
    for (const r of res) expect(await engine.waitForInstance(r.workflowId, r.workflowInstanceId)).toBe('SUCCEEDED');
    expect((await engine.getRun('alpha', 2))?.params.n).toEqual({ type: 'LONG', value: 2n });
    const b1 = await t.db.query<{ initiator: unknown; message: string }>(
      `SELECT i.initiator, tl.message FROM baton_workflow_instances i JOIN baton_instance_timeline tl ON tl.instance_pk = i.id AND tl.to_status = 'CREATED'
        WHERE i.workflow_id = 'beta' AND i.instance_id = 1`,
    );
    expect(b1.rows[0]).toEqual({ initiator: { type: 'SIGNAL', note: 'x' }, message: 'created by request b1' });
  });

  it('answers duplicates within the batch and of earlier starts with the first instance, using no instance id', async () => {
    const single = await engine.startWorkflow({ workflowId: 'gamma', requestId: 'g1' });
    expect(single.workflowInstanceId).toBe(1);
    const res = await inQueueTx([
      { workflowId: 'gamma', requestId: 'g2' },
      { workflowId: 'gamma', requestId: 'g1' },
      { workflowId: 'gamma', requestId: 'g2', params: { n: 9 } },
      { workflowId: 'delta', requestId: 'g2' },
      { workflowId: 'gamma', requestId: 'g3' },
    ]);
    expect(res.map((r) => [r.workflowId, r.workflowInstanceId, r.duplicate])).toEqual([
      ['gamma', 2, false],
      ['gamma', 1, true],
      ['gamma', 2, true],
      ['delta', 1, false],
      ['gamma', 3, false],
    ]);
    expect(await counter('gamma')).toBe(3);
    const again = await inQueueTx([
      { workflowId: 'gamma', requestId: 'g3' },
      { workflowId: 'gamma', requestId: 'g1' },
    ]);
    expect(again.map((r) => [r.workflowInstanceId, r.duplicate])).toEqual([
      [3, true],
      [1, true],
    ]);
    expect(await counter('gamma')).toBe(3);
    expect((await engine.startWorkflow({ workflowId: 'gamma', requestId: 'g4' })).workflowInstanceId).toBe(4);
    expect(await instanceCount('gamma')).toBe(4);
  });

  it("leaves nothing behind when the caller's transaction rolls back", async () => {
    const kept = await engine.startWorkflow({ workflowId: 'rolled', requestId: 'kept' });
    expect(await engine.waitForInstance('rolled', kept.workflowInstanceId)).toBe('SUCCEEDED');
    await engine.idle();
    const jobsBefore = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs')).rows[0]!.n;
    await expect(
      t.db.tx(async (tx) => {
        const res = await engine.startWorkflowsInTx(tx, [
          { workflowId: 'rolled', requestId: 'gone-1' },
          { workflowId: 'rolled', requestId: 'gone-2' },
          { workflowId: 'alpha', requestId: 'gone-3' },
        ]);
        expect(res.map((r) => r.duplicate)).toEqual([false, false, false]);
        throw new Error('caller changed its mind');
      }),
    ).rejects.toThrow('caller changed its mind');
    expect(await instanceCount('rolled')).toBe(1);
    expect(await counter('rolled')).toBe(1);
    expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs')).rows[0]!.n).toBe(jobsBefore);
    const next = await t.db.tx((tx) => engine.startWorkflowInTx(tx, { workflowId: 'rolled', requestId: 'gone-1' }));
    expect(next).toMatchObject({ workflowInstanceId: 2, duplicate: false });
  });

  it('refuses the whole batch before writing anything when one request is bad', async () => {
    await expect(inQueueTx([{ workflowId: 'alpha', requestId: 'ok-1' }, { workflowId: 'nope' }])).rejects.toThrow(new StartError('not_found', 'workflow nope has no active version'));
    await expect(inQueueTx([{ workflowId: 'alpha', requestId: 'ok-2' }, { workflowId: 'alpha', params: { n: 'seven' } }])).rejects.toThrow(/param n: expected a whole number \(LONG\)/);
    await expect(inQueueTx([{ workflowId: 'alpha', version: 4 }])).rejects.toThrow('workflow alpha has no version 4');
    await expect(inQueueTx([{ workflowId: 'alpha', requestId: '' }])).rejects.toThrow(/requestId must be a non-empty string/);
    expect(await t.db.query('SELECT 1 FROM baton_workflow_instances WHERE request_id IN ($1, $2)', ['ok-1', 'ok-2'])).toMatchObject({ rows: [] });
    expect(await inQueueTx([])).toEqual([]);
  });

  it('wakes the workers through PostgreSQL or the poll when the caller has no outbox (fan-out over many workflows)', async () => {
    const res = await t.db.tx((tx) =>
      engine.startWorkflowsInTx(tx, [
        { workflowId: 'plain-1', requestId: 'p' },
        { workflowId: 'plain-2', requestId: 'p' },
        { workflowId: 'plain-3', requestId: 'p' },
        { workflowId: 'plain-1', requestId: 'q' },
      ]),
    );
    expect(res.map((r) => r.workflowInstanceId)).toEqual([1, 1, 1, 2]);
    for (const r of res) expect(await engine.waitForInstance(r.workflowId, r.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('SEQUENTIAL: a batch queues its runs and they run one at a time, first in first out', async () => {
    const res = await inQueueTx([0, 1, 2].map((i) => ({ workflowId: 'seq', requestId: `seq-${i}` })));
    expect(res.map((r) => r.workflowInstanceId)).toEqual([1, 2, 3]);
    for (const r of res) {
      const key = `seq/${r.workflowInstanceId}`;
      await until(`${key} to run`, () => gate.running.has(key));
      await sleep(50);
      expect([...gate.running].filter((k) => k.startsWith('seq/'))).toEqual([key]);
      gate.release(key);
      expect(await engine.waitForInstance('seq', r.workflowInstanceId)).toBe('SUCCEEDED');
    }
  });

  it('FIRST_ONLY: a batch started while a run is going is dropped, as single starts are', async () => {
    const a = await engine.startWorkflow({ workflowId: 'first' });
    await until('the first run', () => gate.running.has(`first/${a.workflowInstanceId}`));
    const later = await t.db.tx((tx) => engine.startWorkflowsInTx(tx, [{ workflowId: 'first' }, { workflowId: 'first' }]));
    for (const r of later) {
      expect(await engine.waitForInstance('first', r.workflowInstanceId)).toBe('STOPPED');
      expect((await engine.getRun('first', r.workflowInstanceId))?.reason).toMatch(/FIRST_ONLY/);
    }
    gate.release(`first/${a.workflowInstanceId}`);
    expect(await engine.waitForInstance('first', a.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('concurrent batches with the same request ids start each once, ids gap-free', async () => {
    // PostgreSQL: a second pool, so both transactions are open at once (PGlite runs them in turn).
    const other = t.url ? new PgDb({ connectionString: t.url, max: 4 }) : undefined;
    try {
      const reqs = Array.from({ length: 20 }, (_, i) => ({ workflowId: 'raced', requestId: `r-${i % 10}` }));
      const shuffled = [...reqs].reverse();
      const [x, y] = await Promise.all([t.db.tx((tx) => engine.startWorkflowsInTx(tx, reqs)), (other ?? t.db).tx((tx) => engine.startWorkflowsInTx(tx, shuffled))]);
      const fresh = [...x!, ...y!].filter((r) => !r.duplicate);
      expect(fresh).toHaveLength(10);
      expect(fresh.map((r) => r.workflowInstanceId).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(await counter('raced')).toBe(10);
      expect(await instanceCount('raced')).toBe(10);
    } finally {
      await other?.close();
    }
  });

  it('never moved a status backwards and had no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});

describe.each<DbKind>(['pglite', 'postgres'])('batch starts over the versions store on %s', (kind) => {
  let t: TestDb;

  beforeAll(async () => {
    t = await openTestDb(kind);
    const push = (id: string, n: number, isActive = true) =>
      pushWorkflow(t.db, { ...workflow({ workflow: { id, params: { n: { value: n, type: 'LONG' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } }), isActive });
    await push('one', 1);
    await push('one', 2);
    await push('one', 3, false);
    await push('two', 10);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('bulkStoreDefinitions answers numbered, active and latest versions (number and params) in key order', async () => {
    const keys: VersionKey[] = [
      { workflowId: 'one', version: 'latest' },
      { workflowId: 'one', version: 'active' },
      { workflowId: 'two', version: 1 },
      { workflowId: 'one', version: 9 },
      { workflowId: 'one', version: 0 },
      { workflowId: 'missing', version: 'active' },
      { workflowId: 'one', version: 1 },
    ];
    const found = await bulkStoreDefinitions(t.db).getStartDefinitions(keys);
    expect(found.map((v) => v && [v.version, v.workflow.params.n?.value])).toEqual([[3, 3n], [2, 2n], [1, 10n], undefined, undefined, undefined, [1, 1n]]);
    // The same params the store reads back with the whole definition.
    for (const [i, k] of keys.entries()) expect(found[i]?.workflow.params).toEqual((await getVersion(t.db, k.workflowId, k.version))?.workflow.params);
  });

  it('a batch reads its definitions in bulk and starts the versions asked for', async () => {
    const engine = new Engine({ db: t.db, definitions: bulkStoreDefinitions(t.db) });
    const res = await t.db.tx((tx) =>
      engine.startWorkflowsInTx(tx, [
        { workflowId: 'one', requestId: 'a' },
        { workflowId: 'one', version: 1, requestId: 'b' },
        { workflowId: 'two', version: 'latest', requestId: 'a' },
        { workflowId: 'one', version: 'latest', requestId: 'c' },
      ]),
    );
    expect(res.map((r) => [r.workflowId, r.workflowInstanceId, r.version])).toEqual([
      ['one', 1, 2],
      ['one', 2, 1],
      ['two', 1, 1],
      ['one', 3, 3],
    ]);
    await expect(t.db.tx((tx) => engine.startWorkflowsInTx(tx, [{ workflowId: 'two', requestId: 'x' }, { workflowId: 'one', version: 7 }]))).rejects.toThrow('workflow one has no version 7');
    const again = await t.db.tx((tx) => engine.startWorkflowsInTx(tx, [{ workflowId: 'one', version: 1, requestId: 'b' }, { workflowId: 'two', requestId: 'x' }]));
    expect(again.map((r) => [r.workflowInstanceId, r.duplicate])).toEqual([
      [2, true],
      [2, false],
    ]);
  });
});
