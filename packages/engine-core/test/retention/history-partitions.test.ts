import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/index.js';
import { listPartitions } from '../../src/db/partitions.js';
import { dropExpiredHistory, ensureHistoryPartitions, HISTORY_TABLES, startOfUtcWeek } from '../../src/retention/history-partitions.js';
import { purgeExpiredRuns } from '../../src/retention/run-retention.js';
import { runTombstone } from '../../src/retention/run-tombstones.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { AttemptLogWriter, DEFAULT_STEP_LOG_LIMITS } from '../../src/runtime/step-logs.js';
import { readStepLog } from '../../src/runtime/step-logs-read.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { testEngine } from '../runtime/support/engine.js';
import { loadSample } from '../runtime/support/samples.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** The passes' clock: 100 days from now, retention 90 days, so this week's rows have expired. */
const NOW = new Date(Date.now() + 100 * DAY);
const CUTOFF = new Date(NOW.getTime() - 90 * DAY);
const RECENT = new Date(NOW.getTime() - 10 * DAY);
const WF = 'sample-foreach-wf';

async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  return (await db.query<{ n: number }>(sql, params)).rows[0]!.n;
}

/** An open run (as if a process were still executing its step) with one running step attempt. */
let openRuns = 0;
async function openRun(db: Db): Promise<{ instancePk: number; attemptPk: number }> {
  const i = await db.query<{ id: string }>(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status) VALUES ('open-run', 1, $1, 1, 'IN_PROGRESS') RETURNING id`,
    [++openRuns],
  );
  const instancePk = Number(i.rows[0]!.id);
  await db.query(`INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message) VALUES ($1, 'CREATED', 'IN_PROGRESS', 'started')`, [instancePk]);
  const a = await db.query<{ id: string }>(`INSERT INTO baton_step_attempts (instance_pk, step_id, status) VALUES ($1, 'shell', 'RUNNING') RETURNING id`, [instancePk]);
  const attemptPk = Number(a.rows[0]!.id);
  await db.query(`INSERT INTO baton_step_timeline (attempt_pk, from_status, to_status, message) VALUES ($1, 'INITIALIZED', 'RUNNING', 'running')`, [attemptPk]);
  return { instancePk, attemptPk };
}

describe.each<DbKind>(['pglite', 'postgres'])('run-history partitions on %s', (kind) => {
  let t: TestDb;
  let engine: Engine;
  const defs = new InMemoryDefinitions();

  beforeAll(async () => {
    t = await openTestDb(kind);
    defs.add(loadSample(WF));
    ({ engine } = testEngine(t.db, defs));
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('turns each history table into a partitioned one and creates its weekly partitions ahead', async () => {
    const now = new Date();
    const first = await ensureHistoryPartitions(t.db, { now });
    expect(first.busy).toBe(false);
    for (const h of HISTORY_TABLES) {
      const parts = await listPartitions(t.db, h.table);
      const names = parts.map((p) => p.name);
      expect(names).toContain(`${h.table}_p_legacy`);
      expect(names[names.length - 1]).toBe(`${h.table}_p_default`);
      // Contiguous weeks up to at least two weeks after this one.
      const ranged = parts.filter((p) => !p.isDefault);
      for (let k = 1; k < ranged.length; k++) expect(ranged[k]!.from!.getTime()).toBe(ranged[k - 1]!.to!.getTime());
      expect(ranged[ranged.length - 1]!.to!.getTime()).toBeGreaterThanOrEqual(startOfUtcWeek(now).getTime() + 3 * WEEK);
      for (const p of ranged.slice(1)) expect(p.from!.getUTCDay()).toBe(1); // weeks start on Monday
    }
    expect(first.created.length).toBeGreaterThanOrEqual(HISTORY_TABLES.length * 2);
    // Idempotent.
    expect((await ensureHistoryPartitions(t.db, { now })).created).toEqual([]);
  });

  it('drops an expired partition whole, moving the rows of stored runs; their reads, the purged run tombstone and logs written during the pass hold', async () => {
    // Two engine runs: one stays (it "ended recently" by the pass's clock), one expires.
    const keptStart = await engine.startWorkflow({ workflowId: WF });
    const goneStart = await engine.startWorkflow({ workflowId: WF });
    for (const s of [keptStart, goneStart]) expect(['SUCCEEDED', 'FAILED']).toContain(await engine.waitForInstance(WF, s.workflowInstanceId, 30_000));
    await engine.idle(); // the jobs that ended them are gone (a family a job points at is kept)
    // A family is kept while any member ended recently: its root is enough.
    await t.db.query(`UPDATE baton_workflow_instances SET ended_at = $2 WHERE workflow_id = $1 AND instance_id = $3`, [WF, RECENT, keptStart.workflowInstanceId]);
    const keptBefore = await engine.getRun(WF, keptStart.workflowInstanceId);
    const stepId = keptBefore!.steps[0]!.stepId;
    const keptStepBefore = await engine.getStepAttempt(WF, keptStart.workflowInstanceId, stepId);
    expect(keptBefore!.timeline.length).toBeGreaterThan(0);
    expect(keptStepBefore!.timeline.length).toBeGreaterThan(0);
    const gonePks = (await t.db.query<{ id: string }>(`SELECT id FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2`, [WF, goneStart.workflowInstanceId])).rows.map((r) => r.id);

    // An open run whose step prints while the pass runs.
    const open = await openRun(t.db);
    const errors: unknown[] = [];
    const writer = new AttemptLogWriter(t.db, open.attemptPk, { ...DEFAULT_STEP_LOG_LIMITS, flushMs: 1 }, (e) => errors.push(e));
    const expected: string[] = [];
    let writing = true;
    const printing = (async () => {
      for (let k = 0; (writing || k < 5) && k < 100_000; k++) {
        const line = `line ${k}\n`;
        expected.push(line);
        writer.write('stdout', Buffer.from(line));
        await writer.flush();
      }
    })();

    let purged: Awaited<ReturnType<typeof purgeExpiredRuns>>;
    let history: Awaited<ReturnType<typeof dropExpiredHistory>>;
    try {
      await ensureHistoryPartitions(t.db, { now: NOW });
      purged = await purgeExpiredRuns(t.db, { cutoff: CUTOFF, now: NOW });
      history = await dropExpiredHistory(t.db, CUTOFF, { now: NOW });
    } finally {
      writing = false;
      await printing;
    }
    expect(purged.tombstones).toBeGreaterThanOrEqual(1);
    await writer.close(false);
    expect(errors).toEqual([]);

    expect(history.skipped).toEqual([]);
    for (const h of HISTORY_TABLES) {
      expect(history.dropped.map((d) => d.partition)).toContain(`${h.table}_p_legacy`);
      expect((await listPartitions(t.db, h.table)).map((p) => p.name)).not.toContain(`${h.table}_p_legacy`);
    }
    const legacy = (table: string) => history.dropped.find((d) => d.partition === `${table}_p_legacy`)!;
    // The purged run's rows went with the partition; the stored runs' rows were moved.
    expect(legacy('baton_instance_timeline').rows).toBeGreaterThan(0);
    expect(legacy('baton_instance_timeline').kept).toBeGreaterThan(0);
    expect(legacy('baton_step_timeline').kept).toBeGreaterThan(0);
    expect(await count(t.db, 'SELECT count(*)::int AS n FROM baton_instance_timeline WHERE instance_pk = ANY($1::bigint[])', [gonePks])).toBe(0);

    // The purged run answers with its tombstone, the kept one reads as before.
    expect(await engine.getRun(WF, goneStart.workflowInstanceId)).toBeUndefined();
    expect(await runTombstone(t.db, WF, goneStart.workflowInstanceId)).toMatchObject({ workflowId: WF, instanceId: goneStart.workflowInstanceId });
    expect((await engine.getRun(WF, keptStart.workflowInstanceId))!.timeline).toEqual(keptBefore!.timeline);
    expect((await engine.getStepAttempt(WF, keptStart.workflowInstanceId, stepId))!.timeline).toEqual(keptStepBefore!.timeline);
    // Every byte the open step printed, before, during and after the pass.
    const page = await readStepLog(t.db, open.attemptPk, 'stdout', 0, 1024 * 1024);
    expect(page.text).toBe(expected.join(''));
    expect(await count(t.db, 'SELECT count(*)::int AS n FROM baton_instance_timeline WHERE instance_pk = $1', [open.instancePk])).toBe(1);

    // Nothing else has expired: the next pass drops nothing.
    expect((await dropExpiredHistory(t.db, CUTOFF, { now: NOW })).dropped).toEqual([]);
  });

  it('drops nothing while runs are kept forever, and moves rows left in the DEFAULT partition into a week', async () => {
    // No cutoff given to a pass under "forever": only partitions are created. A row whose week has
    // no partition (dropped above by the clock 100 days ahead) lands in the DEFAULT partition.
    const { instancePk } = await openRun(t.db);
    const def = 'baton_instance_timeline_p_default';
    expect(await count(t.db, `SELECT count(*)::int AS n FROM ${def} WHERE instance_pk = $1`, [instancePk])).toBe(1);
    await ensureHistoryPartitions(t.db, { now: NOW });
    expect(await count(t.db, `SELECT count(*)::int AS n FROM ${def}`)).toBe(0);
    expect(await count(t.db, 'SELECT count(*)::int AS n FROM baton_instance_timeline WHERE instance_pk = $1', [instancePk])).toBe(1);
  });
});
