import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/index.js';
import { purgeExpiredRuns } from '../../src/retention/run-retention.js';
import { purgedRunMessage, runTombstone, runTombstones } from '../../src/retention/run-tombstones.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { testEngine } from '../runtime/support/engine.js';
import { loadSample } from '../runtime/support/samples.js';

const DAY = 86_400_000;
/** The injected clock of the passes below: 100 days from now, retention 90 days. */
const NOW = new Date(Date.now() + 100 * DAY);
const CUTOFF = new Date(NOW.getTime() - 90 * DAY);
const OLD = new Date(Date.now() - 5 * DAY); // ended 95 days before NOW: expired
const RECENT = new Date(NOW.getTime() - 10 * DAY); // ended 10 days before NOW: kept

interface RunSpec {
  wf: string;
  iid: number;
  run?: number;
  status: string;
  ended?: Date | null;
  parentAttemptPk?: number;
}

async function addRun(db: Db, s: RunSpec): Promise<number> {
  const terminal = ['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(s.status);
  const ended = s.ended === undefined ? (terminal ? OLD : null) : s.ended;
  const r = await db.query<{ id: string }>(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, created_at, ended_at, parent_attempt_pk, iteration)
     VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [s.wf, s.iid, s.run ?? 1, s.status, new Date(OLD.getTime() - 60_000), ended, s.parentAttemptPk ?? null, s.parentAttemptPk ? (s.run ?? 1) - 1 : null],
  );
  const pk = Number(r.rows[0]!.id);
  await db.query(`INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message) VALUES ($1, NULL, $2, 'fixture')`, [pk, s.status]);
  return pk;
}

async function addAttempt(db: Db, instancePk: number, stepId: string, status = 'SUCCEEDED'): Promise<number> {
  const r = await db.query<{ id: string }>(`INSERT INTO baton_step_attempts (instance_pk, step_id, status) VALUES ($1, $2, $3) RETURNING id`, [instancePk, stepId, status]);
  const pk = Number(r.rows[0]!.id);
  await db.query(`INSERT INTO baton_step_timeline (attempt_pk, to_status, message) VALUES ($1, $2, 'fixture')`, [pk, status]);
  await db.query(`INSERT INTO baton_step_logs (attempt_pk, stream, total_bytes, stored_bytes) VALUES ($1, 'stdout', 2, 2)`, [pk]);
  await db.query(`INSERT INTO baton_step_log_chunks (attempt_pk, stream, byte_offset, data) VALUES ($1, 'stdout', 0, '\\x6869'::bytea)`, [pk]);
  return pk;
}

async function runsOf(db: Db, wf: string): Promise<number> {
  const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id = $1 OR workflow_id LIKE $1 || '#%'`, [wf]);
  return r.rows[0]!.n;
}

/**
 * Rows of the family tables left without their run or attempt. The partitioned history (timelines,
 * log chunks) is not counted: it goes with its weekly partition (history-partitions.test.ts).
 */
async function orphans(db: Db): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM baton_step_attempts a WHERE NOT EXISTS (SELECT 1 FROM baton_workflow_instances i WHERE i.id = a.instance_pk))
          + (SELECT count(*) FROM baton_step_logs l WHERE NOT EXISTS (SELECT 1 FROM baton_step_attempts a WHERE a.id = l.attempt_pk)))::int AS n`,
  );
  return r.rows[0]!.n;
}

describe.each<DbKind>(['pglite', 'postgres'])('run retention on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  const defs = new InMemoryDefinitions();

  beforeAll(async () => {
    t = await openTestDb(kind);
    defs.add(loadSample('sample-foreach-wf'));
    ({ engine } = testEngine(t.db, defs));
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('purges an expired finished run the engine ran (with its loop iterations, steps, timelines) and leaves a tombstone', async () => {
    const s = await engine.startWorkflow({ workflowId: 'sample-foreach-wf' });
    const status = await engine.waitForInstance('sample-foreach-wf', s.workflowInstanceId, 30_000);
    expect(['SUCCEEDED', 'FAILED']).toContain(status);
    // The job that ended it is deleted once its handler returned, a moment later; a family a job
    // still points at is kept by the purge.
    await engine.idle();
    const before = await runsOf(t.db, 'sample-foreach-wf');
    expect(before).toBeGreaterThan(1); // the run and its iterations
    // Not expired yet under the real clock: nothing happens.
    const none = await purgeExpiredRuns(t.db, { cutoff: new Date(Date.now() - 90 * DAY), now: new Date() });
    expect(none.runs).toBe(0);
    expect(await runsOf(t.db, 'sample-foreach-wf')).toBe(before);

    const res = await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW, batchSize: 1 });
    expect(res.runs).toBe(before);
    expect(res.tombstones).toBe(1); // one per instance chain, none per iteration
    expect(await runsOf(t.db, 'sample-foreach-wf')).toBe(0);
    expect(await orphans(t.db)).toBe(0);
    expect(await engine.getRun('sample-foreach-wf', s.workflowInstanceId)).toBeUndefined();
    const tomb = await runTombstone(t.db, 'sample-foreach-wf', s.workflowInstanceId);
    expect(tomb).toMatchObject({ workflowId: 'sample-foreach-wf', instanceId: s.workflowInstanceId, runs: 1, lastRunId: 1, status, purgedAt: NOW.toISOString() });
    expect(purgedRunMessage(tomb!)).toContain(`instance ${s.workflowInstanceId} was purged by run retention at ${NOW.toISOString()}`);
    // A second pass finds nothing more.
    expect((await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW })).runs).toBe(0);
  });

  it('keeps open runs, families with an open or recent member, restarted chains with a recent run, a blocking failure and runs with queued jobs', async () => {
    // Expired and closed: purged (with a subworkflow child and its restart).
    const gone = await addRun(t.db, { wf: 'gone', iid: 1, status: 'SUCCEEDED' });
    const goneStep = await addAttempt(t.db, gone, 'sub');
    const child = await addRun(t.db, { wf: 'gone-child', iid: 1, status: 'FAILED', parentAttemptPk: goneStep });
    await addAttempt(t.db, child, 'x', 'USER_FAILED');
    await addRun(t.db, { wf: 'gone-child', iid: 1, run: 2, status: 'SUCCEEDED', parentAttemptPk: goneStep });
    // Not terminal.
    await addRun(t.db, { wf: 'open', iid: 1, status: 'IN_PROGRESS' });
    await addRun(t.db, { wf: 'queued', iid: 1, status: 'CREATED' });
    // Parent ended long ago, its (async) child still runs: both kept.
    const parent = await addRun(t.db, { wf: 'parent-open-child', iid: 1, status: 'SUCCEEDED' });
    const pStep = await addAttempt(t.db, parent, 'sub');
    await addRun(t.db, { wf: 'open-child', iid: 1, status: 'IN_PROGRESS', parentAttemptPk: pStep });
    // Parent ended long ago, its child ended recently: kept.
    const parent2 = await addRun(t.db, { wf: 'parent-recent-child', iid: 1, status: 'SUCCEEDED' });
    const p2Step = await addAttempt(t.db, parent2, 'sub');
    await addRun(t.db, { wf: 'recent-child', iid: 1, status: 'SUCCEEDED', ended: RECENT, parentAttemptPk: p2Step });
    // A child whose (top-level) parent is open is never a candidate itself.
    const openParent = await addRun(t.db, { wf: 'open-parent', iid: 1, status: 'IN_PROGRESS' });
    const opStep = await addAttempt(t.db, openParent, 'loop', 'RUNNING');
    await addRun(t.db, { wf: 'open-parent#loop', iid: 99, status: 'SUCCEEDED', parentAttemptPk: opStep });
    // Restarted: run 1 expired, run 2 (the latest) recent: the whole chain is kept.
    await addRun(t.db, { wf: 'restarted', iid: 1, status: 'FAILED' });
    await addRun(t.db, { wf: 'restarted', iid: 1, run: 2, status: 'SUCCEEDED', ended: RECENT });
    // Restarted and every run expired: purged together.
    await addRun(t.db, { wf: 'restarted-old', iid: 1, status: 'FAILED' });
    await addRun(t.db, { wf: 'restarted-old', iid: 1, run: 2, status: 'FAILED' });
    // The failed instance that blocks a STRICT_SEQUENTIAL workflow.
    await addRun(t.db, { wf: 'strict', iid: 1, status: 'FAILED' });
    await t.db.query(`INSERT INTO baton_workflow_state (workflow_id, last_instance_id, blocked_by_instance) VALUES ('strict', 1, 1)`);
    // A job still queued for an attempt of an expired run.
    const jobbed = await addRun(t.db, { wf: 'jobbed', iid: 1, status: 'STOPPED' });
    const jStep = await addAttempt(t.db, jobbed, 'a');
    await t.db.query(`INSERT INTO baton_jobs (kind, payload, job_key) VALUES ('step', $1::jsonb, $2)`, [JSON.stringify({ attemptPk: jStep }), `step:${jStep}`]);

    const res = await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW, batchSize: 2 });
    expect(res.more).toBe(false);
    for (const wf of ['gone', 'gone-child', 'restarted-old']) expect(await runsOf(t.db, wf), wf).toBe(0);
    const kept = { open: 1, queued: 1, 'parent-open-child': 1, 'open-child': 1, 'parent-recent-child': 1, 'recent-child': 1, 'open-parent': 2, restarted: 2, strict: 1, jobbed: 1 };
    for (const [wf, n] of Object.entries(kept)) expect(await runsOf(t.db, wf), wf).toBe(n);
    expect(await orphans(t.db)).toBe(0);
    const tombs = await runTombstones(t.db, [
      { workflowId: 'gone', instanceId: 1 },
      { workflowId: 'gone-child', instanceId: 1 },
      { workflowId: 'restarted-old', instanceId: '1' },
      { workflowId: 'restarted', instanceId: 1 },
      { workflowId: 'open', instanceId: 'not-a-number' },
    ]);
    expect(tombs.map((x) => [x.workflowId, x.runs, x.lastRunId]).sort()).toEqual([
      ['gone', 1, 1],
      ['gone-child', 2, 2],
      ['restarted-old', 2, 2],
    ]);

    // Once the job is done and the blocking failure is cleared, the next pass takes them.
    await t.db.query(`DELETE FROM baton_jobs WHERE job_key = $1`, [`step:${jStep}`]);
    await t.db.query(`UPDATE baton_workflow_state SET blocked_by_instance = NULL WHERE workflow_id = 'strict'`);
    await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW });
    expect(await runsOf(t.db, 'jobbed')).toBe(0);
    expect(await runsOf(t.db, 'strict')).toBe(0);
    expect(await runsOf(t.db, 'restarted')).toBe(2);
  });

  it('stops at maxBatches and says there is more', async () => {
    // Older than the runs kept above, so they are the first candidates.
    for (let i = 1; i <= 5; i++) await addRun(t.db, { wf: 'many', iid: i, status: 'SUCCEEDED', ended: new Date(OLD.getTime() - DAY) });
    const first = await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW, batchSize: 2, maxBatches: 1 });
    expect(first).toMatchObject({ runs: 2, batches: 1, more: true });
    const rest = await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW, batchSize: 2 });
    expect(rest.runs).toBe(3);
    expect(await runsOf(t.db, 'many')).toBe(0);
  });

  it('walks runs that ended at the same instant in id order across batches (ids of different lengths)', async () => {
    // One statement: every row gets the same end time, to the microsecond; ids cross 100 (and 1000 on a later run).
    await t.db.query(
      `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, status, ended_at) SELECT 'same-end', 1, g, 'SUCCEEDED', $1::timestamptz - interval '1 microsecond' * 7 FROM generate_series(1, 150) g`,
      [OLD],
    );
    const res = await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW, batchSize: 7 });
    expect(res.runs).toBe(150);
    expect(await runsOf(t.db, 'same-end')).toBe(0);
  });
});
