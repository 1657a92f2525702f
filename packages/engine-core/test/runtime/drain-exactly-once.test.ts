/**
 * The drain's fast path keeps exactly-once (issue 16): an advance inserts ready steps already
 * INITIALIZED with their timeline in one statement, and ends the instance with its timeline row
 * in one. Here a backlog of a two-step PARALLEL workflow drains while
 * - the advance transaction fails right after that insert (a crash between two statements: the
 *   transaction rolls back, the job is retried), several times;
 * - each running instance gets two extra, unkeyed advance jobs, so advances of one instance race
 *   (on PostgreSQL across two engines, each with its own workers);
 * and each step still runs exactly once, has one attempt with one CREATED, one INITIALIZED and one
 * SUCCEEDED timeline row, and each instance ends once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/db.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from './support/databases.js';
import { assertTimelinesMonotone, drainRacingAdvances, testEngine, workflow } from './support/engine.js';

const N = 40;
const FAULTS = 6;

/** Makes the statement after an advance's attempt insert fail, in the first `budget` such transactions. */
/** Shares `faults` with every database instrumented with it: whichever engine runs the transactions gets the faults. */
function failAfterAttemptInsert(db: Db, faults: { budget: number; injected: number }): { injected: () => number } {
  const tx = db.tx.bind(db);
  db.tx = (<T>(fn: (q: Queryable) => Promise<T>) =>
    tx((q) => {
      let armed = false;
      return fn({
        query: async (sql: string, params?: readonly unknown[]) => {
          if (armed && faults.injected < faults.budget) {
            faults.injected++;
            // As a lost connection reports itself: a passing problem, so the job is retried.
            throw Object.assign(new Error('injected: the connection died between two statements'), { code: 'ECONNRESET' });
          }
          const res = await q.query(sql, params);
          if (sql.includes('INSERT INTO baton_step_attempts') && sql.includes('baton_step_timeline')) armed = true;
          return res as never;
        },
      });
    })) as Db['tx'];
  return { injected: () => faults.injected };
}

describe.each<DbKind>(['pglite', 'postgres'])('drain fast path on %s', (kind) => {
  let t: TestDb;
  let second: TestDb['db'] | undefined;
  const engines: Engine[] = [];
  const runs = new Map<string, number>();
  const counted: StepRuntime = {
    run: async (_p, ctx) => {
      const key = `${ctx.instanceId}/${ctx.stepId}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
      return { status: 'SUCCEEDED' };
    },
  };
  let faults: { injected: () => number };
  let errors: unknown[] = [];

  beforeAll(async () => {
    t = await openTestDb(kind);
    const defs = new InMemoryDefinitions();
    defs.add(
      workflow({
        properties: { run_strategy: { rule: 'parallel', workflow_concurrency: 8 } },
        workflow: { id: 'drain-eo', steps: [{ step: { id: 'a', type: 'Counted', transition: { successors: { b: 'true' } } } }, { step: { id: 'b', type: 'Counted' } }] },
      }),
    );
    const budget = { budget: FAULTS, injected: 0 };
    faults = failAfterAttemptInsert(t.db, budget);
    const dbs: Db[] = [t.db];
    if (kind === 'postgres') {
      const { PgDb } = await import('../../src/index.js');
      second = new PgDb({ connectionString: t.url!, max: 10 });
      failAfterAttemptInsert(second, budget);
      dbs.push(second);
    }
    for (const db of dbs) {
      // Retries of the failed advance come back quickly.
      const { engine, errors: errs } = testEngine(db, defs, { concurrency: 8, pollMs: 50 });
      errors = errs;
      engine.registerRuntime('Counted', counted);
      engines.push(engine);
    }
  }, 60_000);

  afterAll(async () => {
    for (const e of engines) await e.stop();
    await second?.close();
    await t?.close();
  });

  it('runs every step of a raced, fault-injected backlog exactly once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < N; i++) ids.push((await engines[0]!.startWorkflow({ workflowId: 'drain-eo' })).workflowInstanceId);
    for (const e of engines) await e.start();
    // While it drains, duplicated advance jobs for each running instance keep advances of one instance racing.
    let raced: Set<number>;
    try {
      raced = await drainRacingAdvances(t.db);
    } catch (e) {
      const st = await t.db.query(`SELECT status, count(*)::int AS n FROM baton_workflow_instances GROUP BY 1`);
      const jobs = await t.db.query(`SELECT kind, job_key, attempts, last_error, failed_at, locked_until, run_at FROM baton_jobs ORDER BY id LIMIT 20`);
      throw new Error(`${(e as Error).message}: instances ${JSON.stringify(st.rows)}; jobs ${JSON.stringify(jobs.rows)}; errors ${errors.map(String).join("; ")}`, { cause: e });
    }
    expect(faults.injected()).toBe(FAULTS);
    // PGlite runs one statement at a time, so the racer may never see an instance running there.
    if (kind === 'postgres') expect(raced.size).toBeGreaterThan(0);
    for (const id of ids) for (const step of ['a', 'b']) expect(runs.get(`${id}/${step}`), `${id}/${step}`).toBe(1);
    const attempts = await t.db.query<{ n: number; steps: number }>(`SELECT count(*)::int AS n, count(DISTINCT (instance_pk, step_id))::int AS steps FROM baton_step_attempts`);
    expect(attempts.rows[0]).toEqual({ n: 2 * N, steps: 2 * N });
    const tl = await t.db.query<{ to_status: string; n: number; per_attempt: number }>(
      `SELECT to_status, count(*)::int AS n, max(c)::int AS per_attempt FROM (
         SELECT attempt_pk, to_status, count(*) AS c FROM baton_step_timeline WHERE to_status IN ('CREATED', 'INITIALIZED', 'SUCCEEDED') GROUP BY 1, 2
       ) x GROUP BY 1 ORDER BY 1`,
    );
    expect(tl.rows).toEqual(['CREATED', 'INITIALIZED', 'SUCCEEDED'].map((s) => ({ to_status: s, n: 2 * N, per_attempt: 1 })));
    const ends = await t.db.query<{ n: number; instances: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT instance_pk)::int AS instances FROM baton_instance_timeline WHERE to_status = 'SUCCEEDED'`,
    );
    expect(ends.rows[0]).toEqual({ n: N, instances: N });
    await assertTimelinesMonotone(t.db);
  }, 120_000);
});
