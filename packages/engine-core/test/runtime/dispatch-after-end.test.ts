import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/db.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { StepRuntime, StepRuntimeContext } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { testEngine, until, workflow } from './support/engine.js';
import { Releases } from './support/releases.js';

/** `db` with every statement it runs (in a transaction or not) noted in `seen`. */
function noting(db: Db, seen: string[]): Db {
  const note = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      seen.push(sql);
      return q.query(sql, params);
    },
  });
  return {
    kind: db.kind,
    query: (sql, params) => note(db).query(sql, params),
    exec: (sql) => db.exec(sql),
    tx: (fn) => db.tx((tx) => fn(note(tx))),
    close: () => db.close(),
  };
}

class Gate implements StepRuntime {
  private readonly releases = new Releases();
  readonly running = new Set<string>();
  async run(_params: unknown, ctx: StepRuntimeContext) {
    const key = `${ctx.workflowId}/${ctx.instanceId}`;
    this.running.add(key);
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

const LOCK = "hashtextextended('baton.dispatch:'";
const PROBE = /^SELECT 1 FROM baton_workflow_instances WHERE workflow_id = \$1 AND status = 'CREATED' LIMIT 1$/;

// An instance's ending wakes its workflow's run strategy. With nothing queued that wake-up is one
// indexed read (no transaction, no dispatch lock): on PGlite, which runs in-process, the empty
// dispatch otherwise sat in front of the next start (issue 15, bench:engine start).
describe.each<DbKind>(['pglite', 'postgres'])('dispatch after an instance ends, on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const seen: string[] = [];
  const gate = new Gate();

  beforeAll(async () => {
    t = await openTestDb(kind);
    const defs = new InMemoryDefinitions();
    defs.add(workflow({ properties: { run_strategy: 'parallel' }, workflow: { id: 'one', steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
    defs.add(workflow({ properties: { run_strategy: 'sequential' }, workflow: { id: 'seq', steps: [{ step: { id: 'g', type: 'Gate' } }] } }));
    ({ engine, errors } = testEngine(noting(t.db, seen), defs));
    engine.registerRuntime('Gate', gate);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('with nothing queued, reads once and takes no dispatch lock', async () => {
    seen.length = 0;
    const r = await engine.startWorkflow({ workflowId: 'one', requestId: 'one-1' });
    expect(await engine.waitForInstance('one', r.workflowInstanceId)).toBe('SUCCEEDED');
    await engine.idle();
    // The start's dispatch (which begins the instance) takes the lock; the ending's only reads.
    expect(seen.filter((s) => s.includes(LOCK))).toHaveLength(1);
    expect(seen.filter((s) => PROBE.test(s.trim()))).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('with an instance queued, the ending still begins it', async () => {
    seen.length = 0;
    const first = await engine.startWorkflow({ workflowId: 'seq', requestId: 'seq-1' });
    const second = await engine.startWorkflow({ workflowId: 'seq', requestId: 'seq-2' });
    await until('the first instance runs', () => gate.running.has(`seq/${first.workflowInstanceId}`));
    // Both starts' dispatches have run (each takes the lock); the second instance stays queued.
    await until('both starts dispatched', () => seen.filter((s) => s.includes(LOCK)).length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(gate.running.has(`seq/${second.workflowInstanceId}`)).toBe(false);
    seen.length = 0;
    gate.release(`seq/${first.workflowInstanceId}`);
    await until('the queued instance runs', () => gate.running.has(`seq/${second.workflowInstanceId}`));
    expect(seen.filter((s) => PROBE.test(s.trim()))).toHaveLength(1);
    expect(seen.filter((s) => s.includes(LOCK))).toHaveLength(1);
    gate.release(`seq/${second.workflowInstanceId}`);
    expect(await engine.waitForInstance('seq', second.workflowInstanceId)).toBe('SUCCEEDED');
    expect(errors).toEqual([]);
  });
});
