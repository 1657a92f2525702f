/**
 * The background matcher defers to bulk ingestion in its process (IngestPressure), on PostgreSQL:
 * while ingestion is busy it lets matching lag up to matchLagWhileIngestingMs, then catches up.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deferMs, IngestPressure } from '../src/ingest-pressure.js';
import { matchBacklog } from '../src/match-queue.js';
import { SignalService } from '../src/service.js';
import { openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => {
  await t?.close();
});

const signals = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: 'defer/sig', params: { tag, i } }));

async function backlogWithin(ms: number, done: (n: number) => boolean): Promise<number> {
  const until = Date.now() + ms;
  for (;;) {
    const n = (await matchBacklog(t.db)).signals;
    if (done(n) || Date.now() > until) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('waits only while ingestion is busy and the signals it matched are younger than the lag', async () => {
  const p = new IngestPressure(0);
  expect(deferMs(p, 5000, 100)).toBe(0);
  p.enter();
  expect(deferMs(p, 5000, 100)).toBe(4900);
  expect(deferMs(p, 5000, 6000)).toBe(0);
  expect(deferMs(p, 0, 100)).toBe(0);
  expect(deferMs(p, 5000, undefined)).toBe(0);
  const t0 = Date.now();
  const waited = p.idleOrAfter(60_000);
  p.leave();
  await waited;
  expect(Date.now() - t0).toBeLessThan(10_000); // woken by leave(), not the minute
  expect(p.busy).toBe(false);
  // Not busy: no wait at all.
  await p.idleOrAfter(60_000);
});

it('lets matching lag while ingestion is busy, and catches up when it goes idle or the lag is reached', async () => {
  const svc = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, matchBatchSize: 100, matcherConcurrency: 1, matchLagWhileIngestingMs: 60_000 });
  svc.ingestPressure.enter();
  await svc.publish(signals('a', 300));
  await svc.start();
  try {
    // One batch, then the loop waits: the matched signals are far younger than the lag.
    expect(await backlogWithin(15_000, (n) => n <= 200)).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect((await matchBacklog(t.db)).signals).toBe(200);
    // Ingestion goes idle (after the grace period): the loop catches up.
    svc.ingestPressure.leave();
    expect(await backlogWithin(10_000, (n) => n === 0)).toBe(0);
  } finally {
    await svc.stop();
  }

  // A short lag: busy ingestion delays matching by about that long, not more.
  const quick = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions, matchBatchSize: 100, matcherConcurrency: 1, matchLagWhileIngestingMs: 300 });
  quick.ingestPressure.enter();
  await quick.publish(signals('b', 300));
  await quick.start();
  try {
    expect(await backlogWithin(10_000, (n) => n === 0)).toBe(0);
    expect(quick.ingestPressure.busy).toBe(true);
  } finally {
    quick.ingestPressure.leave();
    await quick.stop();
  }
});
