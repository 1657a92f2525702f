import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb, migrate, engineMigrations } from '../../packages/engine-core/src/index.js';
import { assertTimelinesMonotone } from '../../packages/engine-core/test/runtime/support/engine.js';
import { createTestDatabase, type Database } from '../setup/infra.js';
import { spawnEngine } from './support/child.js';
import { CRASH_WF_STEPS } from './support/workflows.js';

/**
 * Engine processes on one PostgreSQL are SIGKILLed at random moments while they run workflows,
 * then restarted. Afterwards: every instance ended as Maestro would end it, no step attempt ever
 * ran in two places at once (the Sleep runtime records each call's start and end), and no status
 * went backwards in any timeline.
 */
const KILLS = 5;

describe('crash recovery on PostgreSQL', () => {
  let database: Database;
  let db: PgDb;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new PgDb({ connectionString: database.url, max: 4 });
    await migrate(db, [engineMigrations]);
    await db.exec(`CREATE TABLE test_step_runs (
      id BIGSERIAL PRIMARY KEY, attempt_pk BIGINT NOT NULL, pid INTEGER NOT NULL, resumed BOOLEAN NOT NULL,
      started_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), ended_at TIMESTAMPTZ)`);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('resumes every instance after repeated SIGKILLs without running an attempt twice at once', async () => {
    const starts = [
      ...Array.from({ length: 8 }, (_, i) => ({ workflowId: 'crash-wf', requestId: `crash-${i}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ workflowId: 'sample-dag-test-1', requestId: `dag1-${i}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ workflowId: 'sample-conditional-wf', requestId: `cond-${i}` })),
    ];
    const killedAt = new Map<number, number>();
    for (let round = 0; round < KILLS; round++) {
      // Each incarnation re-sends the same start requests: request ids make them no-ops.
      const p = spawnEngine(['run', database.url, `crash-worker-${round}`, JSON.stringify(starts)]);
      await p.ready;
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 900));
      p.child.kill('SIGKILL');
      const exit = await p.exited;
      expect(exit.signal, p.stderr()).toBe('SIGKILL');
      killedAt.set(p.child.pid!, Date.now());
    }
    const last = spawnEngine(['run', database.url, 'crash-worker-final', JSON.stringify(starts)]);
    try {
      await last.ready;
      const deadline = Date.now() + 90_000;
      for (;;) {
        const open = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE status IN ('CREATED', 'IN_PROGRESS', 'PAUSED')`);
        if (open.rows[0]!.n === 0) break;
        if (Date.now() > deadline) throw new Error(`instances still open after 90 s; engine stderr: ${last.stderr()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }

    const instances = await db.query<{ id: number; workflow_id: string; status: string }>('SELECT id, workflow_id, status FROM baton_workflow_instances ORDER BY id');
    expect(instances.rows.length).toBe(starts.length);
    for (const i of instances.rows) expect(i.status, `${i.workflow_id} ${i.id}`).toBe('SUCCEEDED');
    const steps = await db.query<{ instance_pk: number; step_id: string; status: string }>(
      `SELECT a.instance_pk, a.step_id, a.status FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE i.workflow_id = 'crash-wf'`,
    );
    const byInstance = new Map<number, Record<string, string>>();
    for (const s of steps.rows) byInstance.set(s.instance_pk, { ...byInstance.get(s.instance_pk), [s.step_id]: s.status });
    expect(byInstance.size).toBe(8);
    for (const got of byInstance.values()) expect(got).toEqual(CRASH_WF_STEPS);

    // No attempt ran twice at once: each call ended (or its process was killed) before the next began.
    const runs = await db.query<{ attempt_pk: number; pid: number; started: number; ended: number | null }>(
      `SELECT attempt_pk, pid, extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM ended_at) * 1000 AS ended
       FROM test_step_runs ORDER BY attempt_pk, started_at`,
    );
    expect(runs.rows.length).toBeGreaterThan(0);
    let interrupted = 0;
    for (let i = 1; i < runs.rows.length; i++) {
      const prev = runs.rows[i - 1]!;
      const cur = runs.rows[i]!;
      if (prev.attempt_pk !== cur.attempt_pk) continue;
      const prevEnd = prev.ended != null ? Number(prev.ended) : killedAt.get(prev.pid);
      expect(prevEnd, `attempt ${prev.attempt_pk}: a call in pid ${prev.pid} never ended and its process was not killed`).toBeDefined();
      expect(Number(cur.started), `attempt ${cur.attempt_pk} started again while still running`).toBeGreaterThanOrEqual(prevEnd!);
      if (prev.ended == null) interrupted++;
    }
    for (const r of runs.rows) if (r.ended == null) expect(killedAt.has(r.pid)).toBe(true);
    // Kills landed while steps ran, and another process resumed those attempts.
    expect(interrupted).toBeGreaterThan(0);
    const resumed = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_step_runs WHERE resumed');
    expect(resumed.rows[0]!.n).toBeGreaterThan(0);

    await assertTimelinesMonotone(db);
    const jobs = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_jobs WHERE failed_at IS NOT NULL`);
    expect(jobs.rows[0]!.n).toBe(0);
  }, 240_000);
});
