import { migrate, PGliteDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler, schedulerMigrations } from '../src/index.js';
import { BatchTableStarter, INSTANCES_TABLE, ManualClock, TableStarter, instances } from './support/pg.js';

/** The embedded default: the same schedule SQL runs unchanged on PGlite. */
let db: PGliteDb;
beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [schedulerMigrations]);
  await db.exec(INSTANCES_TABLE);
});
afterAll(async () => {
  await db?.close();
});

describe('on PGlite', () => {
  it('syncs, fires on time, catches up and advances exactly like on PostgreSQL', async () => {
    const clock = new ManualClock(Date.parse('2025-03-29T12:00:00Z'));
    for (const starter of [new TableStarter(), new BatchTableStarter()]) {
      await db.exec('TRUNCATE scheduler_triggers, test_instances');
      const s = new Scheduler({ db, starter, now: clock.now, txBatch: 3 });
      clock.set('2025-03-29T12:00:00Z');
      await s.syncMany(
        Array.from({ length: 5 }, (_, i) => ({ workflowId: `wf-${i}`, active: { version: 1, triggers: [{ type: 'CRON' as const, cron: '30 2 * * *', timezone: 'Europe/Rome', catch_up: 'ALL' as const }] } })),
      );
      // Down until after two fire times: the Rome spring-forward day's shifted 03:30 and the next 02:30.
      clock.set('2025-03-31T09:00:00Z');
      expect(await s.tick()).toMatchObject({ claimed: 5, started: 10, catchUp: 10 });
      const runs = await instances(db, 'wf-0');
      expect(runs.map((r) => new Date(r.run_ts).toISOString())).toEqual(['2025-03-30T01:30:00.000Z', '2025-03-31T00:30:00.000Z']);
      expect(await s.tick()).toMatchObject({ claimed: 0 });
      expect((await s.list('wf-0'))[0]!.next_fire_ms).toBe(Date.parse('2025-04-01T00:30:00Z'));
    }
  });
});
