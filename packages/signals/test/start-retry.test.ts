import { engineMigrations, migrate, PGliteDb, type Queryable } from '@baton/engine-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { signalsMigrations } from '../src/migrations.js';
import type { StartRequest, StartResult } from '../src/ports.js';
import { SignalService } from '../src/service.js';
import { countStarts, STARTS_TABLE, TableStarter, testExpressions } from './helpers.js';
import { definitionWith } from './maestro-sample.js';

/** The test table's starter, throwing on its first `failures` calls (an engine that is briefly down). */
class FlakyStarter extends TableStarter {
  calls = 0;
  constructor(private failures: number) {
    super(false);
  }
  override async startWorkflow(tx: Queryable, req: StartRequest): Promise<StartResult> {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('engine unavailable');
    }
    return super.startWorkflow(tx, req);
  }
}

/** A workflow of its own per test (one database serves them all): sig_a and sig_b joined on `day`. */
function joinedWorkflow(workflowId: string) {
  return definitionWith(workflowId, [{ definitions: { sig_a: { matchParams: {}, joinKeys: ['day'] }, sig_b: { matchParams: {}, joinKeys: ['day'] } }, params: {} }]);
}

async function candidatesOf(workflowId: string): Promise<string[]> {
  const res = await db.query<{ join_key: string }>('SELECT join_key FROM signal_trigger_candidates WHERE workflow_id = $1 ORDER BY join_key', [workflowId]);
  return res.rows.map((r) => r.join_key);
}

let db: PGliteDb;
let svc: SignalService | undefined;
const errors: string[] = [];
const logger = { error: (_obj: object, msg: string) => void errors.push(msg) };

beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [engineMigrations, signalsMigrations]);
  await db.exec(STARTS_TABLE);
}, 60_000);
afterAll(async () => {
  await db?.close();
});
beforeEach(() => {
  errors.length = 0;
});
afterEach(async () => {
  // Each test's workflow leaves the shared database: later tests' sweeps must not see it.
  if (svc) for (const wf of ['wf_sweep', 'wf_demand', 'wf_backoff']) await svc.syncSubscriptions(wf, null);
  await svc?.stop();
  svc = undefined;
});

async function waitFor(what: () => Promise<boolean>, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!(await what()) && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
}

it('a complete join whose start failed is started by the sweep, with no further signal', async () => {
  const starter = new FlakyStarter(3);
  svc = new SignalService(db, { starter, expressions: testExpressions, logger, sweepIntervalMs: 20, startRetryBaseMs: 50, startRetryMaxMs: 400 });
  const joined = joinedWorkflow('wf_sweep');
  await svc.syncSubscriptions(joined.workflowId, joined);
  await svc.start();
  await svc.publish([
    { name: 'sig_a', params: { day: '2026-11-21' } },
    { name: 'sig_b', params: { day: '2026-11-21' } },
  ]);
  await waitFor(async () => (await countStarts(db, 'wf_sweep')) > 0, 10_000);
  expect(await countStarts(db, 'wf_sweep')).toBe(1);
  // The batch's fast path, its careful retry and one sweep failed; a later sweep started the run.
  expect(starter.calls).toBe(4);
  expect(errors.filter((m) => m.includes('firing trigger'))).toHaveLength(2);
  expect(svc.stats.startFailures).toBe(2);
  expect(svc.stats.firings.get('STARTED')).toBe(1);
  expect(await candidatesOf('wf_sweep')).toEqual([]);
  // The consumed signals are not fired again by later sweeps.
  await new Promise((r) => setTimeout(r, 500));
  expect(await countStarts(db, 'wf_sweep')).toBe(1);
}, 20_000);

it('the sweep leaves incomplete joins waiting and fires complete ones on demand', async () => {
  const starter = new FlakyStarter(2);
  svc = new SignalService(db, { starter, expressions: testExpressions, logger });
  const joined = joinedWorkflow('wf_demand');
  await svc.syncSubscriptions(joined.workflowId, joined);
  await svc.publish([
    { name: 'sig_a', params: { day: 'd1' } },
    { name: 'sig_b', params: { day: 'd1' } },
    { name: 'sig_a', params: { day: 'd2' } },
  ]);
  await svc.drain();
  expect(await countStarts(db, 'wf_demand')).toBe(0);
  expect(await svc.retryStalledJoins()).toBe(1);
  expect(await countStarts(db, 'wf_demand')).toBe(1);
  // d2 has no sig_b yet: its candidate waits, and nothing else is complete.
  expect(await svc.retryStalledJoins()).toBe(0);
  expect(await candidatesOf('wf_demand')).toEqual(['["d2"]']);
});

it('a start that keeps failing is retried with backoff, not on every idle loop', async () => {
  const starter = new FlakyStarter(1_000);
  svc = new SignalService(db, { starter, expressions: testExpressions, logger, sweepIntervalMs: 10, startRetryBaseMs: 100, startRetryMaxMs: 10_000 });
  const joined = joinedWorkflow('wf_backoff');
  await svc.syncSubscriptions(joined.workflowId, joined);
  await svc.start();
  await svc.publish([
    { name: 'sig_a', params: { day: 'x' } },
    { name: 'sig_b', params: { day: 'x' } },
  ]);
  const t0 = Date.now();
  // Fast path + careful run, then sweeps after ~100, 200, 400 ms: a handful, not one per 10 ms loop.
  // At least 1 s, and on a loaded machine as long as the first four calls take.
  await new Promise((r) => setTimeout(r, 1000));
  await expect.poll(() => starter.calls).toBeGreaterThanOrEqual(4);
  const ms = Date.now() - t0;
  await svc.stop();
  // Doubling backoff from 100 ms: about log2(ms / 100) sweeps in `ms`, plus the first two and one in flight.
  expect(starter.calls).toBeLessThanOrEqual(3 + Math.ceil(Math.log2(Math.max(ms, 100) / 100)) + 1);
  expect(await countStarts(db, 'wf_backoff')).toBe(0);
}, 20_000);
