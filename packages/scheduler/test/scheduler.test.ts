import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { parseMaestroTriggerExecution, registerSchedulerMetrics, Scheduler, type ActiveSchedule, type TimeTriggerDefinition } from '../src/index.js';
import { BatchTableStarter, instances, ManualClock, openTestDb, TableStarter, type TestDb } from './support/pg.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  await t.db.exec('TRUNCATE scheduler_triggers, test_instances');
});

const cron = (expr: string, extra: Partial<TimeTriggerDefinition> = {}): TimeTriggerDefinition => ({ type: 'CRON', cron: expr, ...extra });
const schedule = (version: number, ...triggers: TimeTriggerDefinition[]): ActiveSchedule => ({ version, triggers });

function make(clock: ManualClock, starter = new TableStarter(), extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler {
  return new Scheduler({ db: t.db, starter, now: clock.now, ...extra });
}

describe('firing', () => {
  it('starts each fire time once, with RUN_TS = the fire time and a TIME initiator', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:58:00Z'));
    const s = make(clock);
    await s.syncWorkflow('wf', schedule(3, cron('0 10 * * *', { timezone: 'Europe/Rome' })));
    expect(await s.tick()).toMatchObject({ claimed: 0, started: 0 });

    clock.set('2024-06-02T08:00:00Z'); // 10:00 in Rome
    expect(await s.tick()).toMatchObject({ claimed: 1, started: 1, catchUp: 0, skipped: 0 });
    expect(await s.tick()).toMatchObject({ claimed: 0, started: 0 });

    const [run] = await instances(t.db);
    expect(run).toMatchObject({
      workflow_id: 'wf',
      run_ts: Date.parse('2024-06-02T08:00:00Z'),
      dup_attempts: 0,
      initiator: { type: 'TIME', fire_time: '2024-06-02T08:00:00.000Z', timezone: 'Europe/Rome', expression: '0 10 * * *' },
    });
    expect(run!.request_id).toBe(`time-trigger:wf:${run!.initiator.trigger}:2024-06-02T08:00:00.000Z`);
    expect(run!.initiator.catch_up).toBeUndefined();
    const [row] = await s.list('wf');
    expect(row).toMatchObject({ watermark_ms: Date.parse('2024-06-02T08:00:00Z'), next_fire_ms: Date.parse('2024-06-03T08:00:00Z'), fired_by: s.owner, started_count: 1 });
  });

  it('waits for the stable jitter but keeps RUN_TS at the fire time', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:58:00Z'));
    const s = make(clock);
    await s.syncWorkflow('wf-j', schedule(1, cron('0 10 * * *', { fuzzy_max_delay: '5m' })));
    const [row] = await s.list('wf-j');
    const jitter = row!.next_due_ms! - row!.next_fire_ms!;
    expect(jitter).toBeGreaterThanOrEqual(0);
    expect(jitter).toBeLessThan(300_000);
    clock.ms = row!.next_fire_ms! + jitter - 1;
    expect((await s.tick()).started).toBe(0);
    clock.ms += 1;
    expect((await s.tick()).started).toBe(1);
    expect((await instances(t.db))[0]!.run_ts).toBe(row!.next_fire_ms);
  });

  it('a failing start rolls back with its batch, is retried later, and starts once', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:59:00Z'));
    let failNext = true;
    const real = new TableStarter();
    const flaky = {
      async startWorkflow(tx: Parameters<TableStarter['startWorkflow']>[0], req: Parameters<TableStarter['startWorkflow']>[1]) {
        const res = await real.startWorkflow(tx, req);
        if (req.workflowId === 'wf-bad' && failNext) throw new Error('engine unavailable');
        return res;
      },
    };
    const errors: string[] = [];
    const s = make(clock, undefined, { starter: flaky, retryDelayMs: 10_000, onError: (e) => errors.push(String(e)) });
    await s.syncMany([
      { workflowId: 'wf-bad', active: schedule(1, cron('0 10 * * *')) },
      { workflowId: 'wf-good', active: schedule(1, cron('0 10 * * *')) },
    ]);
    clock.set('2024-06-01T10:00:00Z');
    expect(await s.tick()).toMatchObject({ started: 1, failed: 1 });
    expect((await instances(t.db)).map((r) => r.workflow_id)).toEqual(['wf-good']);
    expect(errors.join()).toMatch(/engine unavailable/);
    const [bad] = await s.list('wf-bad');
    expect(bad).toMatchObject({ next_fire_ms: Date.parse('2024-06-01T10:00:00Z'), next_due_ms: Date.parse('2024-06-01T10:00:10Z'), last_error: 'engine unavailable' });

    failNext = false;
    clock.set('2024-06-01T10:00:05Z');
    expect((await s.tick()).claimed).toBe(0);
    clock.set('2024-06-01T10:00:10Z');
    expect(await s.tick()).toMatchObject({ started: 1, failed: 0 });
    const runs = await instances(t.db);
    expect(runs.map((r) => [r.workflow_id, r.run_ts, r.dup_attempts])).toEqual([
      ['wf-bad', Date.parse('2024-06-01T10:00:00Z'), 0],
      ['wf-good', Date.parse('2024-06-01T10:00:00Z'), 0],
    ]);
    expect((await s.list('wf-bad'))[0]!.last_error).toBeNull();
  });

  it('a row one process is firing is skipped by another, never fired twice', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:59:00Z'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const slow = new TableStarter();
    const a = make(clock, undefined, {
      owner: 'A',
      starter: {
        async startWorkflow(tx, req) {
          entered();
          await gate;
          return slow.startWorkflow(tx, req);
        },
      },
    });
    const b = make(clock, new TableStarter(), { owner: 'B' });
    await a.syncWorkflow('wf-lease', schedule(1, cron('0 10 * * *')));
    clock.set('2024-06-01T10:00:00Z');
    const aTick = a.tick();
    await inside; // A holds the row lock inside its transaction
    clock.advance(5000);
    expect((await b.tick()).claimed).toBe(0); // the row is locked: B skips it instead of waiting
    release();
    await aTick;
    expect((await instances(t.db)).map((r) => r.dup_attempts)).toEqual([0]);
    expect((await b.tick()).claimed).toBe(0);
    expect((await a.list('wf-lease'))[0]!.fired_by).toBe('A');
  });
});

describe('catch-up after 3 hours of downtime', () => {
  // Every 15 minutes; the last tick before the outage handled 10:00. The process comes back at
  // 13:07, so 10:15 .. 13:00 (12 fire times) were missed and none is within the grace period.
  const cases: Array<[string, TimeTriggerDefinition['catch_up'], string[]]> = [
    ['ALL', 'ALL', ['10:15', '10:30', '10:45', '11:00', '11:15', '11:30', '11:45', '12:00', '12:15', '12:30', '12:45', '13:00']],
    ['ALL bounded to 5', { policy: 'ALL', max_runs: 5 }, ['12:00', '12:15', '12:30', '12:45', '13:00']],
    ['LATEST', 'LATEST', ['13:00']],
    ['NONE', 'NONE', []],
  ];
  for (const [name, policy, expected] of cases) {
    it(name, async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
      const s = make(clock);
      await s.syncWorkflow('wf-c', schedule(1, cron('*/15 * * * *', { catch_up: policy })));
      clock.set('2024-06-01T10:00:20Z');
      expect((await s.tick()).started).toBe(1);

      clock.set('2024-06-01T13:07:00Z');
      const res = await s.tick();
      expect(res).toMatchObject({ started: expected.length, catchUp: expected.length, skipped: 12 - expected.length });
      const runs = (await instances(t.db)).slice(1);
      expect(runs.map((r) => new Date(r.run_ts).toISOString().slice(11, 16))).toEqual(expected);
      expect(runs.every((r) => r.initiator.catch_up === true)).toBe(true);

      // Back to normal: the next fire time runs on time, once.
      clock.set('2024-06-01T13:15:01Z');
      expect(await s.tick()).toMatchObject({ started: 1, catchUp: 0, skipped: 0 });
      const last = (await instances(t.db)).at(-1)!;
      expect([new Date(last.run_ts).toISOString(), last.initiator.catch_up]).toEqual(['2024-06-01T13:15:00.000Z', undefined]);
      const [row] = await s.list('wf-c');
      expect(row).toMatchObject({ skipped_count: 12 - expected.length, catch_up_count: expected.length, started_count: expected.length + 2 });
    });
  }

  it('a fire time within the grace period is on time under every policy', async () => {
    for (const policy of ['ALL', 'LATEST', 'NONE'] as const) {
      await t.db.exec('TRUNCATE scheduler_triggers, test_instances');
      const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
      const s = make(clock, undefined, { misfireGraceMs: 60_000 });
      await s.syncWorkflow('wf-g', schedule(1, cron('*/15 * * * *', { catch_up: policy })));
      clock.set('2024-06-01T13:00:30Z'); // down since before 10:00; 13:00 is 30 s late
      await s.tick();
      const runs = await instances(t.db);
      const onTime = runs.filter((r) => r.initiator.catch_up === undefined).map((r) => new Date(r.run_ts).toISOString());
      expect(onTime, policy).toEqual(['2024-06-01T13:00:00.000Z']);
      expect(runs.length, policy).toBe(policy === 'ALL' ? 13 : 1);
    }
  });
});

describe('definition changes take effect at once', () => {
  it('a new version with the same trigger keeps the watermark: nothing lost, nothing repeated', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
    const s = make(clock);
    await s.syncWorkflow('wf-v', schedule(1, cron('0 * * * *')));
    clock.set('2024-06-01T10:00:00Z');
    await s.tick();
    clock.set('2024-06-01T10:30:00Z');
    await s.syncWorkflow('wf-v', schedule(2, cron('0 * * * *')));
    clock.set('2024-06-01T11:00:00Z');
    await s.tick();
    expect((await instances(t.db)).map((r) => [new Date(r.run_ts).toISOString(), r.dup_attempts])).toEqual([
      ['2024-06-01T10:00:00.000Z', 0],
      ['2024-06-01T11:00:00.000Z', 0],
    ]);
    const res = await t.db.query<{ version: number }>('SELECT version FROM test_instances ORDER BY run_ts');
    expect(res.rows.map((r) => r.version)).toEqual([1, 2]);
  });

  it('deactivation stops firing; reactivation starts from now without catching up the inactive time', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
    const s = make(clock);
    await s.syncWorkflow('wf-d', schedule(1, cron('0 * * * *', { catch_up: 'ALL' })));
    await s.syncWorkflow('wf-d', null);
    clock.set('2024-06-01T12:30:00Z');
    expect((await s.tick()).claimed).toBe(0);
    expect((await s.list('wf-d'))[0]).toMatchObject({ enabled: false, next_fire_ms: null });
    await s.syncWorkflow('wf-d', schedule(1, cron('0 * * * *', { catch_up: 'ALL' })));
    expect((await s.list('wf-d'))[0]).toMatchObject({ enabled: true, next_fire_ms: Date.parse('2024-06-01T13:00:00Z') });
    clock.set('2024-06-01T13:00:00Z');
    expect((await s.tick()).started).toBe(1);
    expect((await instances(t.db)).map((r) => new Date(r.run_ts).toISOString())).toEqual(['2024-06-01T13:00:00.000Z']);
  });

  it('time_trigger_disabled disables; a changed cron re-plans; a removed trigger is deleted; an invalid one is recorded', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
    const s = make(clock);
    await s.syncWorkflow('wf-p', schedule(1, cron('0 * * * *'), cron('30 * * * *')));
    expect((await s.list('wf-p')).map((r) => r.enabled)).toEqual([true, true]);
    await s.syncWorkflow('wf-p', { ...schedule(1, cron('0 * * * *'), cron('30 * * * *')), disabled: true });
    expect((await s.list('wf-p')).map((r) => r.enabled)).toEqual([false, false]);

    const report = await s.syncWorkflow('wf-p', schedule(2, cron('0 * * * *', { id: 'main' }), cron('61 * * * *')));
    expect(report.invalid).toEqual([{ workflowId: 'wf-p', key: 'invalid-1', error: expect.stringMatching(/minute field \(position 1\)/) }]);
    const rows = await s.list('wf-p');
    expect(rows.map((r) => [r.trigger_key, r.enabled, r.next_fire_ms])).toEqual([
      ['invalid-1', false, null],
      ['main', true, Date.parse('2024-06-01T10:00:00Z')],
    ]);
    // The trigger keeps its id while its cron changes: it re-plans from now.
    await s.syncWorkflow('wf-p', schedule(3, cron('45 * * * *', { id: 'main' })));
    expect((await s.list('wf-p')).map((r) => [r.trigger_key, r.next_fire_ms, r.workflow_version])).toEqual([['main', Date.parse('2024-06-01T09:50:00Z') + 55 * 60_000, 3]]);
  });

  it('reconcile disables workflows that are no longer active', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
    const s = make(clock);
    await s.syncMany([
      { workflowId: 'wf-r1', active: schedule(1, cron('0 * * * *')) },
      { workflowId: 'wf-r2', active: schedule(1, cron('0 * * * *')) },
    ]);
    await s.reconcile([{ workflowId: 'wf-r1', ...schedule(1, cron('0 * * * *')) }]);
    expect((await s.list()).map((r) => [r.workflow_id, r.enabled])).toEqual([
      ['wf-r1', true],
      ['wf-r2', false],
    ]);
  });
});

describe('continuing from Maestro', () => {
  it('imports the watermarks of the Maestro time-trigger fixture and catches up from them', async () => {
    const fixture = parseMaestroTriggerExecution(
      JSON.parse(readFileSync(path.resolve(repoRoot, '../shared/maestro-samples/fixtures/maestro-timetrigger/sample-workflow-time-trigger-execution.json'), 'utf8')),
    );
    expect(fixture.workflowId).toBe('wfid');
    expect(fixture.watermarks.map((w) => new Date(w.watermarkMs).toISOString())).toEqual(['2021-05-07T21:31:01.000Z', '2021-05-07T21:31:23.000Z']);

    const clock = new ManualClock(Date.parse('2021-05-08T20:00:00Z')); // 13:00 in US/Pacific
    const s = make(clock);
    await s.syncWorkflow(fixture.workflowId, schedule(12, ...fixture.watermarks.map((w) => w.trigger)));
    expect(await s.importWatermarks(fixture.workflowId, fixture.watermarks)).toHaveLength(2);
    expect((await s.list('wfid')).map((r) => [r.expression, new Date(r.next_fire_ms!).toISOString()])).toEqual(
      expect.arrayContaining([
        ['0 0 12 1/1 * ? *', '2021-05-08T19:00:00.000Z'],
        ['@daily', '2021-05-08T07:00:00.000Z'],
      ]),
    );
    // An older watermark never moves a schedule back.
    expect(await s.importWatermarks('wfid', fixture.watermarks.map((w) => ({ ...w, watermarkMs: w.watermarkMs - 86_400_000 })))).toEqual([]);

    expect(await s.tick()).toMatchObject({ started: 2, catchUp: 2 });
    expect((await instances(t.db, 'wfid')).map((r) => [new Date(r.run_ts).toISOString(), r.initiator.catch_up])).toEqual([
      ['2021-05-08T07:00:00.000Z', true],
      ['2021-05-08T19:00:00.000Z', true],
    ]);
    expect(() => parseMaestroTriggerExecution({ workflow_id: 'x', time_triggers_with_watermarks: [{ time_trigger: {}, last_trigger_timestamp: 'soon' }] })).toThrow(
      /entry 0: last_trigger_timestamp must be epoch seconds/,
    );
  });
});

describe('several processes', () => {
  it('two schedulers sharing one PostgreSQL start each fire time exactly once', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
    const pool2 = new PgDb({ connectionString: t.database.url, max: 10 });
    try {
      const batched = new BatchTableStarter();
      const a = make(clock, batched, { owner: 'A', txBatch: 7 });
      const b = new Scheduler({ db: pool2, starter: new TableStarter(), now: clock.now, owner: 'B', txBatch: 5 });
      const items = Array.from({ length: 150 }, (_, i) => ({ workflowId: `wf-m${i}`, active: schedule(1, cron('*/15 * * * *', { catch_up: 'ALL' })) }));
      await a.syncMany(items);
      for (let step = 0; step < 8; step++) {
        clock.set(new Date(Date.parse('2024-06-01T10:00:00Z') + step * 15 * 60_000).toISOString());
        await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
      }
      const res = await t.db.query<{ n: number; dups: number; distinct_req: number }>(
        'SELECT count(*)::int AS n, sum(dup_attempts)::int AS dups, count(DISTINCT request_id)::int AS distinct_req FROM test_instances',
      );
      expect(res.rows[0]).toEqual({ n: 150 * 8, dups: 0, distinct_req: 150 * 8 });
      expect(a.stats.started + b.stats.started).toBe(150 * 8);
      expect(a.stats.started).toBeGreaterThan(0);
      expect(b.stats.started).toBeGreaterThan(0);
      expect(batched.batches).toBeGreaterThan(0); // A used the batch start, B one start at a time
    } finally {
      await pool2.close();
    }
  });

  it('two timer-driven schedulers on one PostgreSQL split a live every-second schedule without gaps or repeats', async () => {
    const pool2 = new PgDb({ connectionString: t.database.url, max: 10 });
    const opts = { pollIntervalMs: 200, compile: { minIntervalMs: 1000 }, txBatch: 4 };
    const a = new Scheduler({ db: t.db, starter: new TableStarter(), owner: 'A', ...opts });
    const b = new Scheduler({ db: pool2, starter: new BatchTableStarter(), owner: 'B', ...opts });
    let first: Map<string, number> | undefined;
    try {
      await a.syncMany(Array.from({ length: 20 }, (_, i) => ({ workflowId: `wf-live${i}`, active: schedule(1, cron('* * * * * ?', { catch_up: 'ALL' })) })));
      first = new Map((await a.list()).map((r) => [r.workflow_id, r.next_fire_ms!] as const));
      a.start();
      b.start();
      // Until every schedule fired at least twice and each scheduler started some (15 s at most:
      // on a loaded machine a fixed window may close before both got a turn).
      const until = Date.now() + 15_000;
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const twice = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM test_instances WHERE workflow_id LIKE 'wf-live%' GROUP BY workflow_id HAVING count(*) >= 2) x`);
        if ((twice.rows[0]!.n === 20 && a.stats.started > 0 && b.stats.started > 0) || Date.now() > until) break;
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await pool2.close();
    }
    const rows = await a.list();
    const res = await t.db.query<{ workflow_id: string; runs: number; first: string; last: string; dups: number }>(
      `SELECT workflow_id, count(*)::int AS runs, min(run_ts)::text AS first, max(run_ts)::text AS last, sum(dup_attempts)::int AS dups
         FROM test_instances GROUP BY workflow_id`,
    );
    expect(res.rows).toHaveLength(20);
    for (const r of res.rows) {
      const row = rows.find((x) => x.workflow_id === r.workflow_id)!;
      expect(Number(r.first)).toBe(first?.get(r.workflow_id));
      expect(Number(r.last)).toBe(row.watermark_ms);
      expect(r.runs).toBe((Number(r.last) - Number(r.first)) / 1000 + 1);
      expect(r.runs).toBeGreaterThanOrEqual(2);
      expect(r.dups).toBe(0);
    }
    expect(a.stats.started + b.stats.started).toBe(res.rows.reduce((n, r) => n + r.runs, 0));
    expect(a.stats.started).toBeGreaterThan(0);
    expect(b.stats.started).toBeGreaterThan(0);
  });
});

describe('timers', () => {
  it('a sync wakes the timer for the new earliest row even with a long poll interval; stop() stops', async () => {
    const s = new Scheduler({ db: t.db, starter: new TableStarter(), pollIntervalMs: 60_000, compile: { minIntervalMs: 1000 } });
    s.start();
    try {
      // The first tick finds nothing; only the timer armed by the sync can fire this in time.
      await new Promise((r) => setTimeout(r, 100));
      const before = Date.now();
      await s.syncWorkflow('wf-timer', schedule(1, cron('* * * * * ?')));
      const [row] = await s.list('wf-timer');
      while ((await instances(t.db, 'wf-timer')).length < 2 && Date.now() - before < 5000) await new Promise((r) => setTimeout(r, 20));
      const runs = await instances(t.db, 'wf-timer');
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect(runs[0]!.run_ts).toBe(row!.next_fire_ms);
      expect(runs[1]!.run_ts).toBe(row!.next_fire_ms! + 1000);
      const created = await t.db.query<{ created_ms: number }>('SELECT created_ms FROM test_instances WHERE workflow_id = $1 ORDER BY run_ts LIMIT 1', ['wf-timer']);
      expect(Number(created.rows[0]!.created_ms) - row!.next_fire_ms!).toBeLessThan(10_000); // not the 60 s poll
    } finally {
      await s.stop();
    }
    const after = (await instances(t.db, 'wf-timer')).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await instances(t.db, 'wf-timer')).length).toBe(after);
  });
});

describe('metrics', () => {
  it('counts on-time, catch-up and skipped fire times on a prom-client registry', async () => {
    const registry = new Registry();
    const clock = new ManualClock(Date.parse('2024-06-01T09:50:00Z'));
    const s = make(clock);
    registerSchedulerMetrics(registry, s);
    await s.syncWorkflow('wf-metrics', schedule(1, cron('*/15 * * * *', { catch_up: { policy: 'ALL', max_runs: 4 } })));
    clock.set('2024-06-01T12:00:10Z'); // 10:00 .. 11:45 missed (8), 12:00 on time
    await s.tick();
    const value = async (name: string): Promise<number> => (await registry.getSingleMetric(name)!.get()).values[0]!.value;
    expect(await value('baton_scheduler_fires_started_total')).toBe(5);
    expect(await value('baton_scheduler_fires_catch_up_total')).toBe(4);
    expect(await value('baton_scheduler_fires_skipped_total')).toBe(4);
    expect(await value('baton_scheduler_start_failures_total')).toBe(0);
    clock.set('2024-06-01T12:15:00Z');
    await s.tick();
    expect(await value('baton_scheduler_fires_started_total')).toBe(6);
  });
});
