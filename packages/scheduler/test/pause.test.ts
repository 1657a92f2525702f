import { migrate, PGliteDb, type Db } from '@baton/engine-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PauseConflictError, Scheduler, schedulerMigrations, UnknownTriggerError, type TimeTriggerDefinition } from '../src/index.js';
import { INSTANCES_TABLE, ManualClock, TableStarter, instances, openTestDb, type TestDb } from './support/pg.js';

const cron = (expr: string, extra: Partial<TimeTriggerDefinition> = {}): TimeTriggerDefinition => ({ type: 'CRON', cron: expr, ...extra });
const iso = (ms: number): string => new Date(ms).toISOString();

/** The same behaviour on the embedded database and on PostgreSQL. */
for (const kind of ['pglite', 'postgres'] as const) {
  describe(`pausing time triggers (${kind})`, () => {
    let db: Db;
    let pg: TestDb | undefined;
    beforeAll(async () => {
      if (kind === 'postgres') {
        pg = await openTestDb();
        db = pg.db;
      } else {
        const lite = await PGliteDb.open({});
        await migrate(lite, [schedulerMigrations]);
        await lite.exec(INSTANCES_TABLE);
        db = lite;
      }
    });
    afterAll(async () => {
      if (pg) await pg.close();
      else await db?.close();
    });
    beforeEach(async () => {
      await db.exec('TRUNCATE scheduler_triggers, scheduler_pauses, test_instances');
    });

    const make = (clock: ManualClock, starter = new TableStarter()): Scheduler => new Scheduler({ db, starter, now: clock.now });
    const pause = (s: Scheduler, workflowId: string, triggerKey?: string) => db.tx((tx) => s.pauseInTx(tx, { workflowId, ...(triggerKey ? { triggerKey } : {}), by: 'test', reason: 'maintenance' }));
    const activate = (s: Scheduler, workflowId: string, triggerKey?: string, dryRun = false) => db.tx((tx) => s.activateInTx(tx, workflowId, triggerKey, dryRun));

    it('a fire that comes due while paused does not start; the default catch-up (LATEST) starts the latest on activation', async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:30:00Z'));
      const s = make(clock);
      await s.syncWorkflow('wf', { version: 1, triggers: [cron('0 * * * *', { id: 'hourly' })] });
      expect(await pause(s, 'wf')).toBe(true);
      expect(await pause(s, 'wf')).toBe(false); // idempotent

      clock.set('2024-06-01T12:30:00Z'); // 10:00, 11:00 and 12:00 came due while paused
      expect(await s.tick()).toMatchObject({ claimed: 0, started: 0 });
      expect(await instances(db, 'wf')).toEqual([]);
      const page = await s.listPage({ limit: 10 });
      expect(page.items[0]).toMatchObject({ trigger_id: 'hourly', status: 'PAUSED', paused: true, paused_workflow_wide: true, paused_by: 'test', pause_reason: 'maintenance', next_fire: null });
      expect(page.items[0]!.due_fire).toMatchObject({ utc: '2024-06-01T10:00:00.000Z' });

      const preview = await activate(s, 'wf', undefined, true);
      expect(preview.changed).toBe(true);
      expect(preview.previews).toEqual([
        expect.objectContaining({ triggerKey: 'hourly', catchUp: { policy: 'LATEST', maxRuns: 100 }, wouldStart: [{ fireMs: Date.parse('2024-06-01T12:00:00Z'), catchUp: true }], wouldSkip: 2 }),
      ]);
      // The dry run changed nothing.
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      expect((await s.listPage({ limit: 10 })).items[0]!.paused).toBe(true);

      // Activation starts what the preview said, in its own transaction.
      const done = await activate(s, 'wf');
      expect(done.previews).toEqual(preview.previews);
      expect((await instances(db, 'wf')).map((r) => [iso(r.run_ts), r.initiator.catch_up])).toEqual([['2024-06-01T12:00:00.000Z', true]]);
      expect(s.stats).toMatchObject({ started: 1, catchUp: 1, skipped: 2 });
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      const after = (await s.listPage({ limit: 10 })).items[0]!;
      expect(after).toMatchObject({ status: 'ACTIVE', paused: false, due_fire: null, next_fire: { utc: '2024-06-01T13:00:00.000Z' }, last_fire: { utc: '2024-06-01T12:00:00.000Z' } });
      expect(await activate(s, 'wf')).toMatchObject({ changed: false, previews: [] });
    });

    it('ALL starts every missed fire (up to max_runs) and NONE starts none', async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:30:00Z'));
      const s = make(clock);
      await s.syncMany([
        { workflowId: 'all', active: { version: 1, triggers: [cron('0 * * * *', { catch_up: { policy: 'ALL', max_runs: 2 } })] } },
        { workflowId: 'none', active: { version: 1, triggers: [cron('0 * * * *', { catch_up: 'NONE' })] } },
      ]);
      await pause(s, 'all');
      await pause(s, 'none');
      clock.set('2024-06-01T12:30:00Z');
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      const all = await activate(s, 'all');
      expect(all.previews[0]!.wouldStart.map((f) => iso(f.fireMs))).toEqual(['2024-06-01T11:00:00.000Z', '2024-06-01T12:00:00.000Z']);
      const none = await activate(s, 'none');
      expect(none.previews[0]).toMatchObject({ wouldStart: [], wouldSkip: 3, nextFireMs: Date.parse('2024-06-01T13:00:00Z') });
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      expect(s.stats).toMatchObject({ started: 2, catchUp: 2, skipped: 4 });
      expect((await instances(db, 'all')).map((r) => iso(r.run_ts))).toEqual(['2024-06-01T11:00:00.000Z', '2024-06-01T12:00:00.000Z']);
      expect(await instances(db, 'none')).toEqual([]);
    });

    it('a fire time that came due while paused is missed even if only seconds ago: the policy decides', async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:30:00Z'));
      const s = make(clock);
      await s.syncMany([
        { workflowId: 'none', active: { version: 1, triggers: [cron('0 * * * *', { catch_up: 'NONE' })] } },
        { workflowId: 'latest', active: { version: 1, triggers: [cron('0 * * * *')] } },
      ]);
      await pause(s, 'none');
      await pause(s, 'latest');
      clock.set('2024-06-01T10:00:30Z'); // within the 60 s misfire grace of 10:00
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      expect((await activate(s, 'none')).previews[0]).toMatchObject({ wouldStart: [], wouldSkip: 1 });
      expect((await activate(s, 'latest')).previews[0]!.wouldStart).toEqual([{ fireMs: Date.parse('2024-06-01T10:00:00Z'), catchUp: true }]);
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      expect(await instances(db, 'none')).toEqual([]);
      expect((await instances(db, 'latest')).map((r) => r.initiator.catch_up)).toEqual([true]);
      // From then on both fire on time again.
      clock.set('2024-06-01T11:00:01Z');
      expect(await s.tick()).toMatchObject({ claimed: 2, started: 2, catchUp: 0 });
    });

    it('pauses one trigger by id; the workflow-wide pause covers triggers added later', async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:31:00Z'));
      const s = make(clock);
      await s.syncWorkflow('wf', { version: 1, triggers: [cron('0 * * * *', { id: 'a' }), cron('30 * * * *', { id: 'b' })] });
      await pause(s, 'wf', 'a');
      await expect(pause(s, 'wf', 'ghost')).rejects.toBeInstanceOf(UnknownTriggerError);
      clock.set('2024-06-01T10:31:00Z');
      expect(await s.tick()).toMatchObject({ claimed: 1, started: 1 });
      expect((await instances(db, 'wf')).map((r) => r.initiator.trigger)).toEqual(['b']);
      expect((await s.listPage({ limit: 10, paused: true })).items.map((i) => i.trigger_id)).toEqual(['a']);
      expect((await s.listPage({ limit: 10, paused: false })).items.map((i) => i.trigger_id)).toEqual(['b']);

      await pause(s, 'wf');
      await expect(activate(s, 'wf', 'a')).rejects.toBeInstanceOf(PauseConflictError);
      await s.syncWorkflow('wf', { version: 2, triggers: [cron('0 * * * *', { id: 'a' }), cron('30 * * * *', { id: 'b' }), cron('15 * * * *', { id: 'c' })] });
      clock.set('2024-06-01T11:31:00Z');
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      expect((await s.listPage({ limit: 10 })).items.map((i) => [i.trigger_id, i.status])).toEqual([
        ['a', 'PAUSED'],
        ['b', 'PAUSED'],
        ['c', 'PAUSED'],
      ]);
      const res = await activate(s, 'wf');
      expect(res.previews.map((p) => p.triggerKey)).toEqual(['a', 'b', 'c']);
      expect((await s.listPage({ limit: 10, paused: true })).items).toEqual([]);
    });

    it('deactivating a paused workflow disables its rows as today; the pause outlives it', async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:30:00Z'));
      const s = make(clock);
      await s.syncWorkflow('wf', { version: 1, triggers: [cron('0 * * * *')] });
      await pause(s, 'wf');
      await s.syncWorkflow('wf', null);
      expect((await s.listPage({ limit: 10 })).items[0]).toMatchObject({ status: 'DISABLED', paused: true, next_fire: null });
      clock.set('2024-06-01T12:30:00Z');
      await s.syncWorkflow('wf', { version: 1, triggers: [cron('0 * * * *')] });
      clock.set('2024-06-01T13:30:00Z');
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      // A reactivated trigger starts from its reactivation (an inactive period is never caught up);
      // what came due since then while paused follows the catch-up policy.
      const res = await activate(s, 'wf');
      expect(res.previews[0]!.wouldStart.map((f) => iso(f.fireMs))).toEqual(['2024-06-01T13:00:00.000Z']);
    });

    it('pages the schedule list by (workflow, trigger) and never shows a past next fire while active', async () => {
      const clock = new ManualClock(Date.parse('2024-06-01T09:30:00Z'));
      const s = make(clock);
      await s.syncMany(['w3', 'w1', 'w2'].map((w) => ({ workflowId: w, active: { version: 1, triggers: [cron('0 10 * * *', { timezone: 'America/New_York' })] } })));
      const first = await s.listPage({ limit: 2 });
      expect(first.items.map((i) => i.workflow_id)).toEqual(['w1', 'w2']);
      expect(first.next).toBeDefined();
      const second = await s.listPage({ limit: 2, after: first.next! });
      expect(second.items.map((i) => i.workflow_id)).toEqual(['w3']);
      expect(second.next).toBeUndefined();
      expect(second.items[0]!.next_fire).toEqual({ utc: '2024-06-01T14:00:00.000Z', local: '2024-06-01T10:00:00-04:00', epoch_ms: Date.parse('2024-06-01T14:00:00Z') });
      // Overdue (no tick yet): the next fire shown is the next one after now, the overdue one is due_fire.
      clock.set('2024-06-01T14:00:20Z');
      const overdue = (await s.listPage({ limit: 1, workflowId: 'w1' })).items[0]!;
      expect(overdue.next_fire!.utc).toBe('2024-06-02T14:00:00.000Z');
      expect(overdue.due_fire!.local).toBe('2024-06-01T10:00:00-04:00');
    });
  });
}

describe('pause against a fire in flight (postgres)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a fire claimed before the pause starts and the pause waits for it; nothing is claimed after', async () => {
    const clock = new ManualClock(Date.parse('2024-06-01T09:59:00Z'));
    // The start holds the firing transaction (and its row lock) open for 400 ms; the pause begins
    // once the start was entered, so with the row claimed.
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const table = new TableStarter(400);
    const s = new Scheduler({
      db: t.db,
      starter: {
        startWorkflow(tx, req) {
          entered();
          return table.startWorkflow(tx, req);
        },
      },
      now: clock.now,
    });
    await s.syncWorkflow('wf', { version: 1, triggers: [cron('0 * * * *')] });
    clock.set('2024-06-01T10:00:01Z');
    const tick = s.tick();
    await inside;
    let pausedAt = 0;
    const paused = t.db.tx((tx) => s.pauseInTx(tx, { workflowId: 'wf' })).then(() => (pausedAt = Date.now()));
    const ticked = await tick.then((r) => ({ ...r, at: Date.now() }));
    await paused;
    expect(ticked).toMatchObject({ claimed: 1, started: 1 });
    expect(pausedAt).toBeGreaterThanOrEqual(ticked.at - 5);
    expect((await instances(t.db, 'wf')).map((r) => iso(r.run_ts))).toEqual(['2024-06-01T10:00:00.000Z']);
    clock.set('2024-06-01T11:00:01Z');
    expect(await s.tick()).toMatchObject({ claimed: 0 });
  });
});
