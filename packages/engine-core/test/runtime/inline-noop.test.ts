/**
 * A NoOp step finishes inside the advance that starts it (runtime/inline-step.ts). Here a backlog
 * of a PARALLEL workflow (workflow_concurrency 3, step_concurrency 1) of NoOps a → (b, c) → d,
 * where d has a real runtime, drains while
 * - the advance transaction fails right after an inline step's ending (a crash between two
 *   statements: everything rolls back, the job is retried), several times;
 * - each running instance gets two extra, unkeyed advance jobs, so advances of one instance race
 *   (on PostgreSQL across two engines);
 * and each NoOp still has one attempt with one timeline row per status (as the step job writes
 * it) and no step job, d runs exactly once, each instance ends once, and neither limit is ever
 * exceeded. Then: a gate that may close, or a breakpoint, keeps a NoOp on the step job's path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/db.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { JOB_STEP } from '../../src/runtime/context.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { assertTimelinesMonotone, drainRacingAdvances, testEngine, until, workflow } from './support/engine.js';

const N = 24;
const FAULTS = 5;
const NOOP_STATUSES = ['CREATED', 'INITIALIZED', 'EVALUATING_PARAMS', 'RUNNING', 'SUCCEEDED'];

/**
 * Fails the statement after an inline step's ending in the first `faults.budget` transactions of
 * every database instrumented with the same `faults` (whichever engine runs them); notes step jobs added.
 */
function instrument(db: Db, faults: { budget: number; injected: number }, stepJobs: Set<number>): { injected: () => number; stepJobs: Set<number> } {
  const tx = db.tx.bind(db);
  db.tx = (<T>(fn: (q: Queryable) => Promise<T>) =>
    tx((q) => {
      let armed = false;
      return fn({
        query: async (sql: string, params?: readonly unknown[]) => {
          if (armed && faults.injected < faults.budget) {
            faults.injected++;
            throw Object.assign(new Error('injected: the connection died between two statements'), { code: 'ECONNRESET' });
          }
          const res = await q.query(sql, params);
          if (sql.includes('INSERT INTO baton_jobs') && params) {
            const kinds = params[0] as string[];
            const payloads = params[1] as string[];
            kinds.forEach((k, i) => k === JOB_STEP && stepJobs.add(Number((JSON.parse(payloads[i]!) as { attemptPk: number }).attemptPk)));
          }
          // The inline ending (INITIALIZED to SUCCEEDED in one statement) just ran.
          if (sql.includes("generation = 0 AND status = 'INITIALIZED'")) armed = true;
          return res as never;
        },
      });
    })) as Db['tx'];
  return { injected: () => faults.injected, stepJobs };
}

/** The most entries open at once, walking rows in id order: +1 at an `open` status, -1 at a `close` one. */
function maxOpen(rows: { key: string; to: string }[], open: string, close: readonly string[]): number {
  const now = new Map<string, number>();
  let max = 0;
  for (const r of rows) {
    const n = (now.get(r.key) ?? 0) + (r.to === open ? 1 : close.includes(r.to) ? -1 : 0);
    now.set(r.key, n);
    max = Math.max(max, n);
  }
  return max;
}

describe.each<DbKind>(['pglite', 'postgres'])('inline NoOp steps on %s', (kind) => {
  let t: TestDb;
  let second: Db | undefined;
  const engines: Engine[] = [];
  const runs = new Map<string, number>();
  const counted: StepRuntime = {
    run: async (_p, ctx) => {
      const key = `${ctx.instanceId}/${ctx.stepId}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
      return { status: 'SUCCEEDED' };
    },
  };
  let probe: { injected: () => number; stepJobs: Set<number> };
  const launched: number[] = [];
  const hooked: string[] = [];

  beforeAll(async () => {
    t = await openTestDb(kind);
    const defs = new InMemoryDefinitions();
    defs.add(
      workflow({
        properties: { run_strategy: { rule: 'parallel', workflow_concurrency: 3 }, step_concurrency: 1 },
        workflow: {
          id: 'inline-eo',
          steps: [
            { step: { id: 'a', type: 'NoOp', transition: { successors: { b: 'true', c: 'true' } } } },
            { step: { id: 'b', type: 'NoOp', transition: { successors: { d: 'true' } } } },
            { step: { id: 'c', type: 'NoOp', transition: { successors: { d: 'true' } } } },
            { step: { id: 'd', type: 'Counted' } },
          ],
        },
      }),
    );
    // One budget for both engines' databases: either engine may run most of the advances.
    const faults = { budget: FAULTS, injected: 0 };
    probe = instrument(t.db, faults, new Set());
    const dbs: Db[] = [t.db];
    if (kind === 'postgres') {
      const { PgDb } = await import('../../src/index.js');
      second = new PgDb({ connectionString: t.url!, max: 10 });
      instrument(second, faults, probe.stepJobs);
      dbs.push(second);
    }
    for (const db of dbs) {
      const { engine } = testEngine(db, defs, { concurrency: 8, pollMs: 50 });
      engine.registerRuntime('Counted', counted);
      engine.events.on('step.launch', (pk: number) => launched.push(pk));
      engine.onStepCompleted(async (_tx, _outbox, e) => void hooked.push(`${e.instanceId}/${e.stepId}/${e.status}`));
      engines.push(engine);
    }
  }, 60_000);

  afterAll(async () => {
    for (const e of engines) await e.stop();
    await second?.close();
    await t?.close();
  });

  it('runs a raced, fault-injected backlog of NoOps exactly once, inside the advance, within both limits', async () => {
    const ids: number[] = [];
    for (let i = 0; i < N; i++) ids.push((await engines[0]!.startWorkflow({ workflowId: 'inline-eo' })).workflowInstanceId);
    for (const e of engines) await e.start();
    const raced = await drainRacingAdvances(t.db);
    expect(probe.injected()).toBe(FAULTS);
    if (kind === 'postgres') expect(raced.size).toBeGreaterThan(0);
    for (const id of ids) expect(runs.get(`${id}/d`), `${id}/d`).toBe(1);

    const attempts = await t.db.query<{ id: number; step_id: string; status: string; n: number }>(
      `SELECT id, step_id, status, count(*) OVER (PARTITION BY instance_pk, step_id)::int AS n FROM baton_step_attempts`,
    );
    expect(attempts.rows).toHaveLength(4 * N);
    expect(attempts.rows.every((r) => r.n === 1 && r.status === 'SUCCEEDED')).toBe(true);
    // A step job exists for d's attempts only.
    const dIds = attempts.rows.filter((r) => r.step_id === 'd').map((r) => Number(r.id));
    expect([...probe.stepJobs].sort()).toEqual(dIds.sort());
    // Each NoOp attempt has the step job's timeline, one row per status.
    const tl = await t.db.query<{ to_status: string; n: number; per_attempt: number }>(
      `SELECT to_status, count(*)::int AS n, max(c)::int AS per_attempt FROM (
         SELECT tl.attempt_pk, tl.to_status, count(*) AS c FROM baton_step_timeline tl JOIN baton_step_attempts a ON a.id = tl.attempt_pk
         WHERE a.step_id <> 'd' GROUP BY 1, 2
       ) x GROUP BY 1 ORDER BY 1`,
    );
    expect(tl.rows).toEqual([...NOOP_STATUSES].sort().map((s) => ({ to_status: s, n: 3 * N, per_attempt: 1 })));
    // Events and hooks as for any step, once the advance committed.
    expect(new Set(launched).size).toBe(4 * N);
    for (const id of ids) for (const s of ['a', 'b', 'c', 'd']) expect(hooked).toContain(`${id}/${s}/SUCCEEDED`);

    // step_concurrency 1: per instance, never two attempts between INITIALIZED and their ending.
    const steps = await t.db.query<{ key: string; to: string }>(
      `SELECT a.instance_pk::text AS key, tl.to_status AS to FROM baton_step_timeline tl JOIN baton_step_attempts a ON a.id = tl.attempt_pk
       WHERE tl.to_status IS NOT NULL ORDER BY tl.id`,
    );
    expect(maxOpen(steps.rows, 'INITIALIZED', ['SUCCEEDED'])).toBe(1);
    // workflow_concurrency 3: never more than three instances between IN_PROGRESS and their ending.
    const insts = await t.db.query<{ key: string; to: string }>(`SELECT 'all' AS key, to_status AS to FROM baton_instance_timeline ORDER BY id`);
    const most = maxOpen(insts.rows, 'IN_PROGRESS', ['SUCCEEDED']);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(0);
    const ends = await t.db.query<{ n: number; instances: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT instance_pk)::int AS instances FROM baton_instance_timeline WHERE to_status = 'SUCCEEDED'`,
    );
    expect(ends.rows[0]).toEqual({ n: N, instances: N });
    await assertTimelinesMonotone(t.db);
  }, 120_000);
});

describe('NoOp steps that must not finish inline', () => {
  const defs = new InMemoryDefinitions();
  for (const id of ['gated', 'free', 'paused']) defs.add(workflow({ workflow: { id, steps: [{ step: { id: 'only', type: 'NoOp' } }] } }));
  const stepStatus = async (db: Db, id: string) =>
    (await db.query<{ status: string }>(`SELECT a.status FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE i.workflow_id = $1`, [id])).rows[0]?.status;

  it('a gate that may close for the step, or a breakpoint, keeps the step job; a gate that never closes for it is not asked', async () => {
    const t = await openTestDb('pglite');
    const { engine, errors } = testEngine(t.db, defs);
    const asked: string[] = [];
    engine.registerGate('closes-for-gated', {
      check: async (_q, ref) => (asked.push(ref.workflowId), { open: ref.workflowId !== 'gated', reason: 'closed for the test' }),
      mayClose: (def) => def.workflowId === 'gated',
    });
    try {
      await t.db.query(`INSERT INTO baton_breakpoints (workflow_id, step_id) VALUES ('paused', 'only')`);
      await engine.start();
      for (const id of ['gated', 'free', 'paused']) await engine.startWorkflow({ workflowId: id });
      await until('the gated step to wait', async () => (await stepStatus(t.db, 'gated')) === 'WAITING_FOR_SIGNALS');
      await until('the free step to succeed', async () => (await stepStatus(t.db, 'free')) === 'SUCCEEDED');
      await until('the paused step to pause', async () => (await stepStatus(t.db, 'paused')) === 'PAUSED');
      expect(asked).toContain('gated');
      expect(asked).not.toContain('free');
      expect(errors).toEqual([]);
    } finally {
      await engine.stop();
      await t.close();
    }
  }, 60_000);

  it('a gate that cannot tell whether it may close is asked, as before', async () => {
    const t = await openTestDb('pglite');
    const { engine, errors } = testEngine(t.db, defs);
    const asked: string[] = [];
    engine.registerGate('cannot-tell', { check: async (_q, ref) => (asked.push(ref.workflowId), { open: true }) });
    try {
      await engine.start();
      await engine.startWorkflow({ workflowId: 'free' });
      await until('the free step to succeed', async () => (await stepStatus(t.db, 'free')) === 'SUCCEEDED');
      expect(asked).toEqual(['free']);
      expect(errors).toEqual([]);
    } finally {
      await engine.stop();
      await t.close();
    }
  }, 60_000);

  it('a failing completion hook fails an inline NoOp as it fails any step, and the advance goes on from there', async () => {
    const t = await openTestDb('pglite');
    const { engine } = testEngine(t.db, defs);
    engine.onStepCompleted(async () => {
      throw new Error('hook says no');
    }, 'refuser');
    try {
      await engine.start();
      const s = await engine.startWorkflow({ workflowId: 'free' });
      expect(await engine.waitForInstance('free', s.workflowInstanceId, 20_000)).toBe('FAILED');
      const a = await t.db.query<{ status: string; reason: string }>(`SELECT status, reason FROM baton_step_attempts`);
      expect(a.rows).toHaveLength(1);
      expect(a.rows[0]!.status).toBe('FATALLY_FAILED');
      expect(a.rows[0]!.reason).toContain('hook says no');
      // As on the step job's path: the ending, the hook's verdict on it, and the hook's failure
      // on that verdict noted too.
      const tl = await t.db.query<{ to_status: string }>(`SELECT to_status FROM baton_step_timeline ORDER BY id`);
      expect(tl.rows.map((r) => r.to_status)).toEqual([...NOOP_STATUSES, 'FATALLY_FAILED', 'FATALLY_FAILED']);
    } finally {
      await engine.stop();
      await t.close();
    }
  }, 60_000);
});
