import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import { Engine } from '../../src/runtime/engine.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { spawnTsx } from '../../../../test/support/tsx-process.js';
import { assertTimelinesMonotone } from '../runtime/support/engine.js';
import { ABORTS_TABLE, EXECUTIONS_TABLE, INSTANCE_ENDS_TABLE, actionWorkflows } from './support/actions-workflows.js';

/**
 * Breakpoints, step actions and workflow timeouts when engine processes die: separate OS
 * processes on one PostgreSQL, SIGKILLed. This process acts as the operator (an engine that is
 * never started: it only writes to the database, as the REST routes do) and counts executions
 * in `test_executions`, which the processes' `Counted` runtime writes once per run.
 */
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support/actions-process.ts');

interface EngineProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<NodeJS.Signals | number | null>;
  stderr: () => string;
}

const spawned: EngineProcess[] = [];

function spawnEngine(url: string, workerId: string): EngineProcess {
  const c = spawnTsx(script, [url, workerId]);
  const p = { child: c.child, ready: c.ready, exited: c.exited.then(({ code, signal }) => signal ?? code), stderr: c.stderr };
  spawned.push(p);
  return p;
}

async function started(p: EngineProcess): Promise<EngineProcess> {
  await p.ready;
  if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`engine process died while starting: ${p.stderr()}`);
  return p;
}

async function sigkill(p: EngineProcess): Promise<void> {
  p.child.kill('SIGKILL');
  expect(await p.exited).toBe('SIGKILL');
}

async function until(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; engine stderr: ${spawned.map((p) => p.stderr()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('step actions and workflow timeouts across SIGKILLed engine processes (PostgreSQL)', () => {
  let t: TestDb;
  let operator: Engine;

  beforeAll(async () => {
    t = await openTestDb('postgres');
    await t.db.exec(EXECUTIONS_TABLE);
    await t.db.exec(INSTANCE_ENDS_TABLE);
    await t.db.exec(ABORTS_TABLE);
    const defs = new InMemoryDefinitions();
    for (const wf of actionWorkflows()) defs.add(wf);
    operator = new Engine({ db: t.db, definitions: defs });
  });
  afterEach(async () => {
    for (const p of spawned.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const attempt = async (workflowId: string, instanceId: number, stepId: string) =>
    (
      await t.db.query<{ id: number; status: string; released: boolean | null }>(
        `SELECT a.id, a.status, (SELECT p.released_at IS NOT NULL FROM baton_step_pauses p WHERE p.attempt_pk = a.id) AS released
         FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = $1 AND i.instance_id = $2 AND a.step_id = $3 ORDER BY a.attempt_id DESC LIMIT 1`,
        [workflowId, instanceId, stepId],
      )
    ).rows[0];
  const executions = async (workflowId: string, stepId: string) =>
    (
      await t.db.query<{ instance_id: number; n: number }>(
        'SELECT instance_id, count(*)::int AS n FROM test_executions WHERE workflow_id = $1 AND step_id = $2 GROUP BY instance_id ORDER BY instance_id',
        [workflowId, stepId],
      )
    ).rows.map((r): [number, number] => [Number(r.instance_id), r.n]);
  /** Every `held` instance of `ids` ends SUCCEEDED, and, past a lease and several polls, ran `target` exactly once. */
  const eachRanTargetOnce = async (ids: number[]) => {
    await until('every instance ends', async () => {
      const res = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id = 'held' AND instance_id = ANY($1::bigint[]) AND status = 'SUCCEEDED'`, [ids]);
      return res.rows[0]!.n === ids.length;
    });
    await sleep(2000);
    const counts = new Map(await executions('held', 'target'));
    for (const iid of ids) expect(counts.get(iid), `instance ${iid}`).toBe(1);
  };
  const instanceStatus = async (workflowId: string, instanceId: number) =>
    (await t.db.query<{ status: string }>('SELECT status FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2', [workflowId, instanceId])).rows[0]?.status;

  it('an attempt paused at a breakpoint survives a SIGKILL and a restart, and runs exactly once when resumed', async () => {
    await operator.setBreakpoint('held', 'target', {}, { by: 'test' });
    const a = await started(spawnEngine(t.url!, 'actions-a'));
    const one = (await operator.startWorkflow({ workflowId: 'held' })).workflowInstanceId;
    const two = (await operator.startWorkflow({ workflowId: 'held' })).workflowInstanceId;
    await until('both targets paused', async () => (await attempt('held', one, 'target'))?.status === 'PAUSED' && (await attempt('held', two, 'target'))?.status === 'PAUSED');
    await sigkill(a);

    // Nobody runs: the pauses are rows, unreleased.
    expect(await attempt('held', one, 'target')).toMatchObject({ status: 'PAUSED', released: false });
    // A process started and killed at once leaves both paused. (Nothing of `target` is runnable while
    // it lives: had `two` been resumed before, the killed process could have run it, and a step that a
    // crash cut short runs again, so `two` would rightly count two runs.)
    await sigkill(await started(spawnEngine(t.url!, 'actions-b')));
    expect(await attempt('held', one, 'target')).toMatchObject({ status: 'PAUSED', released: false });
    expect(await attempt('held', two, 'target')).toMatchObject({ status: 'PAUSED', released: false });
    // Resume `two` while no engine process runs.
    const resumedOffline = await operator.stepAction('held', two, 'target', 'resume', 'resumed while down');
    expect(resumedOffline.status).toBe('PAUSED');

    // A restarted process keeps `one` paused and runs `two`.
    await started(spawnEngine(t.url!, 'actions-c'));
    await until('the offline-resumed instance ends', async () => (await instanceStatus('held', two)) === 'SUCCEEDED');
    // Past a lease (1.5 s) and several polls: the held attempt is still paused and never ran.
    await sleep(2500);
    expect(await attempt('held', one, 'target')).toMatchObject({ status: 'PAUSED', released: false });
    expect(await executions('held', 'target')).toEqual([[two, 1]]);

    await operator.stepAction('held', one, 'target', 'resume');
    await until('the resumed instance ends', async () => (await instanceStatus('held', one)) === 'SUCCEEDED');
    await sleep(2000);
    expect(await executions('held', 'target')).toEqual([[one, 1], [two, 1]]);
    expect(await executions('held', 'first')).toEqual([[one, 1], [two, 1]]);
    await operator.deleteBreakpoints('held', 'target');
  });

  it('an instance killed by another process: its step running in an engine process is aborted there, nothing after it runs', async () => {
    await Promise.all([started(spawnEngine(t.url!, 'kill-a')), started(spawnEngine(t.url!, 'kill-b'))]);
    const iid = (await operator.startWorkflow({ workflowId: 'hanging' })).workflowInstanceId;
    await until('the step runs', async () => (await attempt('hanging', iid, 'hang'))?.status === 'RUNNING');
    const pk = (await attempt('hanging', iid, 'hang'))!.id;
    expect(await operator.killInstance('hanging', iid, 'killed from elsewhere')).toBe(true);
    expect(await instanceStatus('hanging', iid)).toBe('FAILED');
    expect(await attempt('hanging', iid, 'hang')).toMatchObject({ status: 'FATALLY_FAILED' });
    // The runner there learns of it at its next lease renewal (lease 1.5 s) and is aborted.
    await until('the runner is aborted', async () => (await t.db.query('SELECT 1 FROM test_aborts WHERE attempt_pk = $1', [pk])).rows.length > 0, 10_000);
    await sleep(1000);
    expect(await attempt('hanging', iid, 'hang')).toMatchObject({ status: 'FATALLY_FAILED' });
    expect(await executions('hanging', 'after')).toEqual([]);
    const ends = await t.db.query<{ status: string }>('SELECT e.status FROM test_instance_ends e JOIN baton_workflow_instances i ON i.id = e.instance_pk WHERE i.workflow_id = $1 AND i.instance_id = $2', ['hanging', iid]);
    // The operator's engine ended it (no hook of the processes ran): nothing ended it again.
    expect(ends.rows).toEqual([]);
  });

  it('a workflow timeout whose deadline passes while no engine process runs fires once after the restart', async () => {
    const a = await started(spawnEngine(t.url!, 'deadline-a'));
    const iid = (await operator.startWorkflow({ workflowId: 'deadline' })).workflowInstanceId;
    await until('the step runs', async () => (await attempt('deadline', iid, 'hang'))?.status === 'RUNNING');
    await sigkill(a);
    const pk = (await t.db.query<{ id: number; started_at: Date }>('SELECT id, started_at FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2', ['deadline', iid])).rows[0]!;
    // The 2 s deadline passes with nothing running; the instance is still open, its job waiting.
    await sleep(Math.max(0, new Date(pk.started_at).getTime() + 3000 - Date.now()));
    expect(await instanceStatus('deadline', iid)).toBe('IN_PROGRESS');
    const jobs = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs WHERE job_key = $1', [`workflow-timeout:${pk.id}`]);
    expect(jobs.rows[0]!.n).toBe(1);

    // Two processes come back at once and race for the overdue job.
    await Promise.all([started(spawnEngine(t.url!, 'deadline-b')), started(spawnEngine(t.url!, 'deadline-c'))]);
    await until('the instance times out', async () => (await instanceStatus('deadline', iid)) === 'TIMED_OUT');
    await sleep(2000);
    const ends = await t.db.query<{ status: string }>('SELECT status FROM test_instance_ends WHERE instance_pk = $1', [pk.id]);
    expect(ends.rows).toEqual([{ status: 'TIMED_OUT' }]);
    const timeline = await t.db.query<{ to_status: string }>('SELECT to_status FROM baton_instance_timeline WHERE instance_pk = $1 ORDER BY id', [pk.id]);
    expect(timeline.rows.map((r) => r.to_status)).toEqual(['CREATED', 'IN_PROGRESS', 'TIMED_OUT']);
    expect(await attempt('deadline', iid, 'hang')).toMatchObject({ status: 'STOPPED' });
    const left = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs WHERE job_key = $1', [`workflow-timeout:${pk.id}`]);
    expect(left.rows[0]!.n).toBe(0);
  });

  it('deleting a breakpoint while two engine processes run resumes each paused attempt exactly once', async () => {
    const N = 24;
    await operator.setBreakpoint('held', 'target');
    await Promise.all([started(spawnEngine(t.url!, 'delete-a')), started(spawnEngine(t.url!, 'delete-b'))]);
    const ids: number[] = [];
    for (let i = 0; i < N; i++) ids.push((await operator.startWorkflow({ workflowId: 'held', requestId: `delete-${i}` })).workflowInstanceId);
    await until(`${N} targets paused`, async () => {
      const res = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.instance_id = ANY($1::bigint[]) AND i.workflow_id = 'held' AND a.step_id = 'target' AND a.status = 'PAUSED'`,
        [ids],
      );
      return res.rows[0]!.n === N;
    });
    // Resumes of single attempts race the delete: each attempt is released by one of them only.
    const single = ids.slice(0, 6).map((iid) => operator.stepAction('held', iid, 'target', 'resume').then(() => 1, (e: Error) => (/already resumed|not paused|need a running instance/.test(e.message) ? 0 : Promise.reject(e))));
    const [deleted, ...singles] = await Promise.all([operator.deleteBreakpoints('held', 'target'), ...single]);
    expect(deleted.deleted).toBe(1);
    expect(deleted.resumed + singles.reduce((a, b) => a + b, 0)).toBe(N);
    await eachRanTargetOnce(ids);
    const releases = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM baton_step_timeline tl JOIN baton_step_attempts a ON a.id = tl.attempt_pk JOIN baton_workflow_instances i ON i.id = a.instance_pk
       WHERE i.workflow_id = 'held' AND i.instance_id = ANY($1::bigint[]) AND tl.from_status = 'PAUSED' AND tl.to_status IS NULL`,
      [ids],
    );
    expect(releases.rows[0]!.n).toBe(N);
  });

  it('a breakpoint deleted while attempts are still arriving at it: each runs exactly once, none stays paused', async () => {
    const N = 24;
    await operator.setBreakpoint('held', 'target');
    await Promise.all([started(spawnEngine(t.url!, 'arriving-a')), started(spawnEngine(t.url!, 'arriving-b'))]);
    const ids: number[] = [];
    const starting = (async () => {
      for (let i = 0; i < N; i++) ids.push((await operator.startWorkflow({ workflowId: 'held', requestId: `arriving-${i}` })).workflowInstanceId);
    })();
    // Delete once the first few paused, while the rest are being started and reach the step.
    await until('a few targets paused', async () => {
      const res = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = 'held' AND i.request_id LIKE 'arriving-%' AND a.step_id = 'target' AND a.status = 'PAUSED'`,
      );
      return res.rows[0]!.n >= 3;
    });
    expect((await operator.deleteBreakpoints('held', 'target')).deleted).toBe(1);
    await starting;
    await eachRanTargetOnce(ids);
    const paused = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_step_attempts WHERE status = 'PAUSED'`);
    expect(paused.rows[0]!.n).toBe(0);
    await assertTimelinesMonotone(t.db);
  });
});
