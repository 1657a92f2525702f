import type { Db } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateSignalTriggersInTx, listSignalTriggers, pauseSignalTriggersInTx, SignalNotFoundError, TriggerPauseConflictError } from '../src/index.js';
import { SignalService } from '../src/service.js';
import { countStarts, openPgliteService, openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';
import { definitionWith, triggersFromMaestro } from './maestro-sample.js';

/** Two triggers: `<wf>/left` + `<wf>/right` joined on day = date, and `<wf>/solo` alone. */
function twoTriggers(workflowId: string) {
  return definitionWith(
    workflowId,
    triggersFromMaestro([
      {
        definitions: {
          [`${workflowId}/left`]: { match_params: { day: { value: 20240101, operator: '>=' } }, join_keys: ['day'] },
          [`${workflowId}/right`]: { match_params: { kind: { value: 'full', operator: '=' } }, join_keys: ['date'] },
        },
      },
      { definitions: { [`${workflowId}/solo`]: {} } },
    ]),
  );
}

// Signals without a request id dedupe by content: `n` makes each publication a new signal.
let n = 0;
const left = (wf: string, day: number) => ({ name: `${wf}/left`, params: { day, n: ++n } });
const right = (wf: string, date: number) => ({ name: `${wf}/right`, params: { kind: 'full', date, n: ++n } });
const solo = (wf: string) => ({ name: `${wf}/solo`, params: { n: ++n } });

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`pausing signal triggers (${kind})`, () => {
    let db: Db;
    let svc: SignalService;
    let pg: TestDb | undefined;
    beforeAll(async () => {
      if (kind === 'postgres') {
        pg = await openTestDb();
        db = pg.db;
        svc = new SignalService(db, { starter: new TableStarter(), expressions: testExpressions });
      } else {
        ({ db, svc } = await openPgliteService());
      }
    });
    afterAll(async () => {
      await svc?.stop();
      if (pg) await pg.close();
      else await db?.close();
    });

    const pause = (workflowId: string, triggerId?: string) => db.tx((tx) => pauseSignalTriggersInTx(tx, { workflowId, ...(triggerId ? { triggerId } : {}), by: 'test', reason: 'backfill running' }));
    const activate = (workflowId: string, triggerId?: string, dryRun = false) => db.tx((tx) => activateSignalTriggersInTx(tx, workflowId, triggerId, dryRun));

    it('a paused trigger starts nothing; signals published during the pause never count; earlier join halves do', async () => {
      const wf = 'wf-pause';
      const def = twoTriggers(wf);
      await svc.syncSubscriptions(wf, def);
      // Half a join before the pause.
      await svc.publish([left(wf, 20240301)]);
      await svc.drain();

      expect(await pause(wf)).toBe(true);
      expect(await pause(wf)).toBe(false);
      await svc.publish([right(wf, 20240301), left(wf, 20240302), right(wf, 20240302), solo(wf)]);
      await svc.drain();
      expect(await countStarts(db, wf)).toBe(0);

      const listed = await listSignalTriggers(db, { workflowId: wf, limit: 10 });
      expect(listed.items).toHaveLength(2);
      for (const item of listed.items) expect(item).toMatchObject({ status: 'PAUSED', paused: true, paused_workflow_wide: true, paused_by: 'test', pause_reason: 'backfill running' });
      const join = listed.items.find((i) => i.signals.length === 2)!;
      expect(join.signals).toEqual([
        { name: `${wf}/left`, match_params: { day: [{ operator: '>=', value: 20240101 }] }, join_keys: ['day'] },
        { name: `${wf}/right`, match_params: { kind: [{ operator: '=', value: 'full' }] }, join_keys: ['date'] },
      ]);
      expect(join.waiting_candidates).toBe(1); // the half from before the pause, nothing from during it

      const preview = await activate(wf, undefined, true);
      expect(preview.changed).toBe(true);
      expect(preview.resumed.map((r) => r.waitingCandidates).sort()).toEqual([0, 1]);
      expect((await listSignalTriggers(db, { workflowId: wf, paused: true, limit: 10 })).items).toHaveLength(2);

      expect((await activate(wf)).changed).toBe(true);
      expect((await listSignalTriggers(db, { workflowId: wf, paused: true, limit: 10 })).items).toHaveLength(0);
      // Nothing published during the pause fires on activation (the matcher has it all already).
      await svc.drain();
      expect(await countStarts(db, wf)).toBe(0);
      // The second half of the pre-pause join completes it; a day whose both halves came during the
      // pause needs new signals.
      await svc.publish([right(wf, 20240301), right(wf, 20240302), solo(wf)]);
      await svc.drain();
      expect(await countStarts(db, wf)).toBe(2);
      await svc.publish([left(wf, 20240302)]);
      await svc.drain();
      expect(await countStarts(db, wf)).toBe(3);
    });

    it('pauses one trigger by id; unknown ids and a one-trigger activation under a workflow-wide pause are refused', async () => {
      const wf = 'wf-one';
      await svc.syncSubscriptions(wf, twoTriggers(wf));
      const items = (await listSignalTriggers(db, { workflowId: wf, limit: 10 })).items;
      const soloTrigger = items.find((i) => i.signals.length === 1)!;
      await pause(wf, soloTrigger.trigger_id);
      await expect(pause(wf, 'nope')).rejects.toBeInstanceOf(SignalNotFoundError);
      await svc.publish([solo(wf), left(wf, 20240401), right(wf, 20240401)]);
      await svc.drain();
      expect(await countStarts(db, wf)).toBe(1);
      expect((await listSignalTriggers(db, { signal: `${wf}/solo`, limit: 10 })).items.map((i) => [i.trigger_id, i.paused])).toEqual([[soloTrigger.trigger_id, true]]);
      expect((await listSignalTriggers(db, { workflowId: wf, paused: false, limit: 10 })).items).toHaveLength(1);

      await pause(wf);
      await expect(activate(wf, soloTrigger.trigger_id)).rejects.toBeInstanceOf(TriggerPauseConflictError);
      const res = await activate(wf);
      expect(res.resumed.map((r) => r.triggerId).sort()).toEqual(items.map((i) => i.trigger_id).sort());
      await svc.publish([solo(wf)]);
      await svc.drain();
      expect(await countStarts(db, wf)).toBe(2);
    });

    it('pages the list by (workflow, trigger)', async () => {
      for (const wf of ['wf-page-b', 'wf-page-a']) await svc.syncSubscriptions(wf, twoTriggers(wf));
      const seen: string[] = [];
      let after: { workflowId: string; triggerId: string } | undefined;
      do {
        const page = await listSignalTriggers(db, { limit: 1, ...(after ? { after } : {}) });
        seen.push(...page.items.map((i) => `${i.workflow_id}:${i.trigger_id}`));
        after = page.next;
      } while (after);
      const all = (await listSignalTriggers(db, { limit: 1000 })).items.map((i) => `${i.workflow_id}:${i.trigger_id}`);
      expect(seen).toEqual(all);
      expect(all.filter((k) => k.startsWith('wf-page-'))).toHaveLength(4);
    });
  });
}

describe('pause against a match in flight (postgres)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('waits for matchers that hold the subscription generation, as a match batch does', async () => {
    const order: string[] = [];
    // A matcher's batch holds the generation row FOR SHARE until it commits; the pause begins once
    // the lock is held.
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const batch = t.db.tx(async (tx) => {
      await tx.query('SELECT generation FROM signal_subscription_generation WHERE id = 1 FOR SHARE');
      holding();
      await new Promise((r) => setTimeout(r, 300));
      order.push('match committed');
    });
    await held;
    await t.db.tx((tx) => pauseSignalTriggersInTx(tx, { workflowId: 'wf' }));
    order.push('pause committed');
    await batch;
    expect(order).toEqual(['match committed', 'pause committed']);
  });
});
