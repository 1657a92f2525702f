import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matcher, matchBacklog, nextClaimLimit, takeSignals } from '../src/matcher.js';
import { SignalService } from '../src/service.js';
import { getFromSignal } from '../src/sel-extensions.js';
import { loadFiringSignals } from '../src/sel-extensions.js';
import type { ConsumedSignal } from '../src/ports.js';
import { countStarts, openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';
import { definitionWith, sampleSignalTriggerWorkflow, triggersFromMaestro } from './maestro-sample.js';

let t: TestDb;
let svc: SignalService;

beforeAll(async () => {
  t = await openTestDb();
  svc = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions });
});
afterAll(async () => {
  await svc?.stop();
  await t?.close();
});

const signalA = { name: 'signal_a', params: { foo: 'bat', watermark: 123456, updated_by: 'tester' } };
const signalB = { name: 'signal_b', params: { bar: 'baz', watermark: 123456, posted_by: 'tester' } };

async function starts(workflowId: string) {
  const r = await t.db.query<{ instance_id: number; request_id: string; initiator: { signals: ConsumedSignal[] } }>(
    'SELECT instance_id, request_id, initiator FROM test_workflow_starts WHERE workflow_id = $1 ORDER BY instance_id',
    [workflowId],
  );
  return r.rows;
}

describe('sample-signal-trigger-wf', () => {
  it('starts exactly one instance for signal_a + signal_b joined on updated_by = posted_by', async () => {
    const def = sampleSignalTriggerWorkflow();
    const sync = await svc.syncSubscriptions(def.workflowId, def);
    expect(sync.activated).toHaveLength(1);

    await svc.publish([signalA]);
    await svc.drain();
    expect(await countStarts(t.db, def.workflowId)).toBe(0);
    await svc.publish([signalB]);
    await svc.drain();
    const rows = await starts(def.workflowId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.request_id).toMatch(/^signal-trigger:sample-signal-trigger-wf:[0-9a-f]{16}:signal_a:[0-9a-f-]{36},signal_b:[0-9a-f-]{36}$/);

    // What the started run reads through params.getFromSignal.
    const consumed = await loadFiringSignals(t.db, rows[0]!.request_id);
    expect(consumed).toBeDefined();
    expect(getFromSignal(consumed!, 'signal_a', 'watermark')).toBe(123456);
    expect(getFromSignal(consumed!, 'foo')).toBe('bat');
    expect(getFromSignal(rows[0]!.initiator.signals, 'signal_b', 'posted_by')).toBe('tester');
    expect(() => getFromSignal(consumed!, 'signal_c', 'x')).toThrow('no signal named signal_c triggered this run (it was triggered by ');

    // Publishing them again dedupes; a signal_b by someone else has no partner.
    const again = await svc.publish([signalA, signalB]);
    expect(again.every((r) => r.duplicate)).toBe(true);
    await svc.publish([{ name: 'signal_b', params: { ...signalB.params, posted_by: 'someone-else' } }]);
    await svc.drain();
    expect(await countStarts(t.db, def.workflowId)).toBe(1);

    // Lineage: both signals TRIGGERED the instance.
    const g = await svc.lineageOfSignal('signal_a', 1, 2);
    expect(g.edges).toEqual([{ from: 'signal:signal_a#1', to: `workflow:${def.workflowId}/${rows[0]!.instance_id}`, kind: 'TRIGGERED' }]);
    const up = await svc.lineageOfWorkflowInstance(def.workflowId, rows[0]!.instance_id, 1);
    expect(up.nodes.map((n) => n.id).sort()).toEqual([`workflow:${def.workflowId}/${rows[0]!.instance_id}`, 'signal:signal_a#1', 'signal:signal_b#1'].sort());

    // A later signal_a by someone-else completes the waiting signal_b (nothing was dropped).
    await svc.publish([{ name: 'signal_a', params: { ...signalA.params, updated_by: 'someone-else' } }]);
    await svc.drain();
    expect(await countStarts(t.db, def.workflowId)).toBe(2);
  });
});

function simpleTrigger(workflowId: string, extra: Record<string, unknown> = {}) {
  return definitionWith(
    workflowId,
    triggersFromMaestro([
      {
        definitions: {
          [`${workflowId}/left`]: { match_params: { day: { value: 20240101, operator: '>=' } }, join_keys: ['day'] },
          [`${workflowId}/right`]: { match_params: { kind: { value: 'full', operator: '=' } }, join_keys: ['date'] },
        },
        ...extra,
      },
    ]),
  );
}

describe('takeSignals', () => {
  // Job 1 knows its instances' partition key (expire_at); the others do not (older queue rows).
  const job = (id: number, seq_id: number, seq_to: number) => ({ id, name: `n${id}`, seq_id, seq_to, only_workflow_id: null, only_trigger_id: null, expire_at: id === 1 ? '2027-01-06 05:00:00.123456+00' : null });
  it('takes whole jobs while they fit, then the head of the next, and leaves the rest queued', () => {
    expect(takeSignals([job(1, 1, 3), job(2, 10, 19), job(3, 1, 1)], 8)).toEqual({
      done: ['1'],
      rest: { id: '2', from: '15' },
      ranges: [
        { n: 'n1', a: '1', b: '3', e: '2027-01-06 05:00:00.123456+00', w: null, t: null },
        { n: 'n2', a: '10', b: '14', e: null, w: null, t: null },
      ],
      signals: 8,
    });
    expect(takeSignals([job(1, 1, 3), job(2, 4, 4)], 4)).toEqual({
      done: ['1', '2'],
      ranges: [
        { n: 'n1', a: '1', b: '3', e: '2027-01-06 05:00:00.123456+00', w: null, t: null },
        { n: 'n2', a: '4', b: '4', e: null, w: null, t: null },
      ],
      signals: 4,
    });
  });
  it('keeps seq ids past 2^53 exact', () => {
    const big = { id: 1, name: 'n', seq_id: 2n ** 60n, seq_to: 2n ** 60n + 9n, only_workflow_id: null, only_trigger_id: null };
    expect(takeSignals([big], 4)).toMatchObject({ rest: { id: '1', from: String(2n ** 60n + 4n) }, ranges: [{ a: String(2n ** 60n), b: String(2n ** 60n + 3n) }] });
  });
});

describe('nextClaimLimit', () => {
  it('claims about as many rows as hold one batch of instances', () => {
    const rows = (span: number, n: number) => Array.from({ length: n }, (_, i) => ({ seq_id: i * span + 1, seq_to: (i + 1) * span }));
    expect(nextClaimLimit(rows(1, 16), 500, 500)).toBe(500);
    expect(nextClaimLimit(rows(5000, 3), 500, 16)).toBe(2);
    expect(nextClaimLimit(rows(100, 7), 500, 16)).toBe(6);
    // Grows at most twofold per batch, shrinks at once.
    expect(nextClaimLimit(rows(1, 16), 500, 16)).toBe(32);
    expect(nextClaimLimit(rows(5000, 1), 500, 500)).toBe(2);
  });
});

describe('trigger semantics', () => {
  it('pairs the earliest candidates first and consumes each instance once (no N x M)', async () => {
    const def = simpleTrigger('wf-pairs');
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.publish([
      { name: 'wf-pairs/left', params: { day: 20240105, n: 1 } },
      { name: 'wf-pairs/left', params: { day: 20240105, n: 2 } },
      { name: 'wf-pairs/left', params: { day: 20240105, n: 3 } },
      { name: 'wf-pairs/left', params: { day: 20231231, n: 4 } },
      { name: 'wf-pairs/right', params: { kind: 'full', date: 20240105, n: 1 } },
      { name: 'wf-pairs/right', params: { kind: 'full', date: 20240105, n: 2 } },
      { name: 'wf-pairs/right', params: { kind: 'partial', date: 20240105, n: 3 } },
      { name: 'wf-pairs/right', params: { kind: 'full', date: '20240105', n: 4 } },
    ]);
    await svc.drain();
    const rows = await starts('wf-pairs');
    expect(rows.map((r) => r.initiator.signals.map((s) => s.params.n))).toEqual([
      [1, 1],
      [2, 2],
    ]);
    // left n=3 waits for a partner; a string date never joins an integer day.
    await svc.publish([{ name: 'wf-pairs/right', params: { kind: 'full', date: 20240105, n: 5 } }]);
    await svc.drain();
    expect((await starts('wf-pairs')).map((r) => r.initiator.signals.map((s) => s.params.n))[2]).toEqual([3, 5]);
  });

  it('counts only signals published after activation unless a backfill is asked for', async () => {
    await svc.publish([
      { name: 'wf-late/left', params: { day: 20240110 } },
      { name: 'wf-late/right', params: { kind: 'full', date: 20240110 } },
    ]);
    const def = simpleTrigger('wf-late');
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-late')).toBe(0);

    const def2 = simpleTrigger('wf-backfill');
    const since = new Date(Date.now() - 60_000);
    await svc.publish([
      { name: 'wf-backfill/left', params: { day: 20240110 } },
      { name: 'wf-backfill/right', params: { kind: 'full', date: 20240110 } },
    ]);
    await svc.syncSubscriptions(def2.workflowId, def2, { backfillFrom: since });
    await svc.drain();
    expect(await countStarts(t.db, 'wf-backfill')).toBe(1);
  });

  it('follows deactivation, signal_trigger_disabled and new versions', async () => {
    const def = simpleTrigger('wf-life');
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.publish([{ name: 'wf-life/left', params: { day: 20240201 } }]);
    await svc.drain();
    // A new version with the same trigger keeps the waiting candidate.
    const v2 = { ...def, version: 2 };
    expect((await svc.syncSubscriptions(def.workflowId, v2)).activated).toEqual([]);
    await svc.publish([{ name: 'wf-life/right', params: { kind: 'full', date: 20240201 } }]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-life')).toBe(1);

    const disabled = { ...v2, properties: { signalTriggerDisabled: true } };
    expect((await svc.syncSubscriptions(def.workflowId, disabled)).deactivated).toHaveLength(1);
    await svc.publish([
      { name: 'wf-life/left', params: { day: 20240202 } },
      { name: 'wf-life/right', params: { kind: 'full', date: 20240202 } },
    ]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-life')).toBe(1);

    await svc.syncSubscriptions(def.workflowId, v2);
    await svc.publish([
      { name: 'wf-life/left', params: { day: 20240203 } },
      { name: 'wf-life/right', params: { kind: 'full', date: 20240203 } },
    ]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-life')).toBe(2);
    await svc.syncSubscriptions(def.workflowId, null);
    await svc.publish([
      { name: 'wf-life/left', params: { day: 20240204 } },
      { name: 'wf-life/right', params: { kind: 'full', date: 20240204 } },
    ]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-life')).toBe(2);
  });

  it('consumes but does not start when the condition is false; a random dedup_expr cannot duplicate', async () => {
    const def = simpleTrigger('wf-cond', { condition: '1 > 2' });
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.publish([
      { name: 'wf-cond/left', params: { day: 20240301 } },
      { name: 'wf-cond/right', params: { kind: 'full', date: 20240301 } },
    ]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-cond')).toBe(0);
    const f = await t.db.query<{ outcome: string }>(`SELECT outcome FROM signal_trigger_firings WHERE workflow_id = 'wf-cond'`);
    expect(f.rows).toEqual([{ outcome: 'CONDITION_FALSE' }]);

    // Re-queue the same instances (as a redelivery would): the consumption rows hold.
    await t.db.query(`INSERT INTO signal_match_queue (name, seq_id) SELECT name, seq_id FROM signal_instances WHERE name LIKE 'signal_%'`);
    await svc.drain();
    expect(await countStarts(t.db, 'sample-signal-trigger-wf')).toBe(2);
  });

  it('matches a batch larger than the matcher takes at once in parts: every instance once, in its range', async () => {
    const own = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, matchBatchSize: 7 });
    const def = simpleTrigger('wf-ranges');
    await own.syncSubscriptions(def.workflowId, def);
    // One publish: one match job per name, each over 25 instances; the matcher takes 7 at a time.
    const days = Array.from({ length: 25 }, (_, i) => 20240601 + i);
    const results = await own.publish([
      ...days.map((day) => ({ name: 'wf-ranges/left', params: { day } })),
      ...days.map((day) => ({ name: 'wf-ranges/right', params: { kind: 'full', date: day } })),
    ]);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const jobs = await t.db.query<{ name: string; seq_id: number; seq_to: number }>(
      `SELECT name, seq_id, seq_to FROM signal_match_queue WHERE name LIKE 'wf-ranges/%' ORDER BY name`,
    );
    expect(jobs.rows).toEqual([
      { name: 'wf-ranges/left', seq_id: 1, seq_to: 25 },
      { name: 'wf-ranges/right', seq_id: 1, seq_to: 25 },
    ]);
    const backlog = await matchBacklog(t.db);
    expect(backlog.signals).toBeGreaterThanOrEqual(50);
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    // Batches of at most 7 instances: the first takes 7 of left and leaves left 8..25 queued.
    const matcher = new Matcher(t.db, { starter: new TableStarter(), expressions: testExpressions, onError: (err) => { throw err; } }, 7);
    expect(await matcher.runOnce()).toBe(7);
    const rest = await t.db.query<{ seq_id: number; seq_to: number }>(`SELECT seq_id, seq_to FROM signal_match_queue WHERE name = 'wf-ranges/left'`);
    expect(rest.rows).toEqual([{ seq_id: 8, seq_to: 25 }]);
    // Every instance is matched exactly once: 7 above, the rest here.
    expect(await own.drain()).toBe(backlog.signals - 7);
    const rows = await starts('wf-ranges');
    expect(rows.map((r) => r.initiator.signals.map((s) => s.params.day ?? s.params.date)).sort()).toEqual(days.map((d) => [d, d]));
    const left = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_match_queue WHERE name LIKE 'wf-ranges/%'`);
    expect(left.rows[0]!.n).toBe(0);
    expect(await matchBacklog(t.db)).toEqual({ signals: 0, oldestAgeSeconds: 0 });
    const waiting = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_trigger_candidates WHERE workflow_id = 'wf-ranges'`);
    expect(waiting.rows[0]!.n).toBe(0);
    await own.stop();
  });

  it('shares ranges between concurrent matchers: each instance is taken once, every pair fires once', async () => {
    const def = simpleTrigger('wf-shared');
    await svc.syncSubscriptions(def.workflowId, def);
    const days = Array.from({ length: 60 }, (_, i) => 20240801 + i);
    // Three transactions, so the queue holds several ranges per name.
    for (const part of [days.slice(0, 20), days.slice(20, 45), days.slice(45)]) {
      await svc.publish([
        ...part.map((day) => ({ name: 'wf-shared/left', params: { day } })),
        ...part.map((day) => ({ name: 'wf-shared/right', params: { kind: 'full', date: day } })),
      ]);
    }
    const before = (await matchBacklog(t.db)).signals;
    const matchers = [3, 5, 8].map((size) => new Matcher(t.db, { starter: new TableStarter(), expressions: testExpressions, onError: (err) => { throw err; } }, size));
    const taken = await Promise.all(
      matchers.map(async (m) => {
        let n = 0;
        for (let idle = 0; idle < 3; ) {
          const k = await m.runOnce();
          n += k;
          idle = k === 0 ? idle + 1 : 0;
          if (k === 0) await new Promise((r) => setTimeout(r, 10));
        }
        return n;
      }),
    );
    expect(taken.reduce((a, b) => a + b, 0)).toBe(before);
    expect((await matchBacklog(t.db)).signals).toBe(0);
    expect(await countStarts(t.db, 'wf-shared')).toBe(60);
  });

  it('isolates a failing start: other triggers fire, the failed one keeps its candidates and fires later', async () => {
    const base = new TableStarter();
    let failing = true;
    const errors: string[] = [];
    // Only startWorkflow: also covers starters without the batch method.
    const flaky = {
      async startWorkflow(tx: Parameters<TableStarter['startWorkflow']>[0], req: Parameters<TableStarter['startWorkflow']>[1]) {
        if (failing && req.workflowId === 'wf-flaky') throw new Error('engine says no');
        return base.startWorkflow(tx, req);
      },
    };
    const own = new SignalService(t.db, { starter: flaky, expressions: testExpressions, logger: { error: (_o, msg) => errors.push(msg) } });
    for (const wf of ['wf-flaky', 'wf-steady']) await own.syncSubscriptions(wf, simpleTrigger(wf));
    await own.publish(
      ['wf-flaky', 'wf-steady'].flatMap((wf) => [
        { name: `${wf}/left`, params: { day: 20240501 } },
        { name: `${wf}/right`, params: { kind: 'full', date: 20240501 } },
      ]),
    );
    await own.drain();
    expect(await countStarts(t.db, 'wf-steady')).toBe(1);
    expect(await countStarts(t.db, 'wf-flaky')).toBe(0);
    expect(errors.some((m) => m.includes('firing trigger') && m.includes('wf-flaky'))).toBe(true);
    const waiting = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_trigger_candidates WHERE workflow_id = 'wf-flaky'`);
    expect(waiting.rows[0]!.n).toBe(2);

    failing = false;
    await own.publish([{ name: 'wf-flaky/left', params: { day: 20240501, again: 1 } }]);
    await own.drain();
    expect(await countStarts(t.db, 'wf-flaky')).toBe(1);
    const rows = await starts('wf-flaky');
    expect(rows[0]!.initiator.signals.map((x) => x.params.again ?? 0)).toEqual([0, 0]);
  });

  it('lets a join partner expire after the join window', async () => {
    // A 30 s window; the first left signal is made older than it by moving its time back (not by
    // waiting), so the second half does not depend on how fast the machine is.
    const def = simpleTrigger('wf-window', { join_window_seconds: 30 });
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.publish([{ name: 'wf-window/left', params: { day: 20240601 } }]);
    await svc.drain();
    const aged = await t.db.query(`UPDATE signal_trigger_candidates SET signal_time = signal_time - interval '31 seconds' WHERE workflow_id = 'wf-window'`);
    expect(aged.rowCount).toBe(1);
    await svc.publish([{ name: 'wf-window/right', params: { kind: 'full', date: 20240601 } }]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-window')).toBe(0);
    await svc.publish([{ name: 'wf-window/left', params: { day: 20240601, n: 2 } }]);
    await svc.drain();
    expect(await countStarts(t.db, 'wf-window')).toBe(1);
  });

  it('drain waits for match jobs another matcher holds, then has them matched', async () => {
    const def = simpleTrigger('wf-held');
    await svc.syncSubscriptions(def.workflowId, def);
    await svc.publish([{ name: 'wf-held/left', params: { day: 20240701 } }, { name: 'wf-held/right', params: { kind: 'full', date: 20240701 } }]);
    // Another matcher's transaction holds the two jobs (as a claim does) for half a second.
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const other = t.db.tx(async (tx) => {
      const jobs = await tx.query(`SELECT id FROM signal_match_queue WHERE name LIKE 'wf-held/%' FOR UPDATE`);
      expect(jobs.rows).toHaveLength(2);
      holding();
      await new Promise((r) => setTimeout(r, 500));
    });
    await held;
    const t0 = performance.now();
    expect(await svc.drain()).toBe(2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    await other;
    expect(await countStarts(t.db, 'wf-held')).toBe(1);
  });

  it('rebuilds subscriptions at start-up from the active definitions only', async () => {
    const keep = simpleTrigger('wf-keep');
    await svc.syncSubscriptions('wf-gone', simpleTrigger('wf-gone'));
    await svc.rebuildSubscriptions([keep]);
    const active = await t.db.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM signal_subscriptions WHERE active ORDER BY 1');
    expect(active.rows.map((r) => r.workflow_id)).toEqual(['wf-keep']);
    // Re-activated later, a workflow counts only signals published after that.
    await svc.rebuildSubscriptions([keep, sampleSignalTriggerWorkflow()]);
    expect((await t.db.query('SELECT 1 FROM signal_subscriptions WHERE active')).rows).toHaveLength(2);
  });

  it('rejects a trigger with an unknown operator, naming the field', async () => {
    const bad = definitionWith('wf-bad', triggersFromMaestro([{ definitions: { x: { match_params: { p: { value: 1, operator: '~' } } } } }]));
    await expect(svc.syncSubscriptions('wf-bad', bad)).rejects.toThrow('signal_triggers[0].definitions.x.match_params.p.operator: unknown operator "~"');
  });

  it('wakes on publish without polling when running in the background', async () => {
    const def = simpleTrigger('wf-live');
    await svc.syncSubscriptions(def.workflowId, def);
    const slow = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, sweepIntervalMs: 60_000 });
    await slow.start();
    try {
      const t0 = Date.now();
      // Published through another service object: the wake-up comes through LISTEN/NOTIFY.
      await svc.publish([
        { name: 'wf-live/left', params: { day: 20240401 } },
        { name: 'wf-live/right', params: { kind: 'full', date: 20240401 } },
      ]);
      while ((await countStarts(t.db, 'wf-live')) === 0) {
        if (Date.now() - t0 > 15_000) throw new Error('no start within 15 s');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Woken, not swept (the sweep is a minute); the bound leaves room for a loaded machine.
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await slow.stop();
    }
  });

  it('its LISTEN connection survives the server ending it, and stop leaves no subscribed connection in the pool', async () => {
    const listeners = async () =>
      (
        await t.db.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN baton_signals' AND datname = current_database() AND pid <> pg_backend_pid()`,
        )
      ).rows.map((r) => r.pid);
    const before = await listeners();
    const bg = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, sweepIntervalMs: 60_000 });
    await bg.start();
    const [mine] = (await listeners()).filter((p) => !before.includes(p));
    expect(mine).toBeDefined();
    // The server ends the listener's session: the service listens again on a new one.
    await t.db.query('SELECT pg_terminate_backend($1)', [mine]);
    await expect.poll(async () => (await listeners()).filter((p) => !before.includes(p) && p !== mine)).toHaveLength(1);
    const [replacement] = (await listeners()).filter((p) => !before.includes(p) && p !== mine);
    await bg.stop();
    // Its session ends: destroyed, not given back to the pool still subscribed for the next borrower.
    const alive = async (pid: number) => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]!.n;
    await expect.poll(() => alive(replacement!)).toBe(0);
  });
});
