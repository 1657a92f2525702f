import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb, type Db } from '../../src/index.js';
import { Queue } from '../../src/queue/queue.js';
import { Worker } from '../../src/queue/worker.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function jobCount(db: Db, kind: string): Promise<number> {
  const res = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM baton_jobs WHERE kind = $1', [kind]);
  return res.rows[0]!.n;
}

describe.each<DbKind>(['pglite', 'postgres'])('durable queue on %s', (kind) => {
  let t: TestDb;
  let db: Db;
  let url: string | undefined;
  let queue: Queue;

  beforeAll(async () => {
    t = await openTestDb(kind);
    ({ db, url } = t);
    queue = new Queue(db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('writes a job only when the surrounding transaction commits', async () => {
    await expect(
      queue.tx(async (_tx, outbox) => {
        await outbox.add({ kind: 'atomic', payload: { n: 1 } });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await jobCount(db, 'atomic')).toBe(0);
    await queue.tx(async (_tx, outbox) => outbox.add({ kind: 'atomic', payload: { n: 2 } }));
    expect(await jobCount(db, 'atomic')).toBe(1);
  });

  it('hands every job to exactly one of many concurrent claimers', async () => {
    for (let i = 0; i < 4; i++) {
      await queue.tx(async (_tx, outbox) => {
        for (let j = 0; j < 50; j++) await outbox.add({ kind: 'excl', payload: { n: i * 50 + j } });
      });
    }
    // On PostgreSQL each claimer gets its own pool, like separate processes.
    const pools: Db[] = kind === 'postgres' ? [0, 1, 2, 3].map(() => new PgDb({ connectionString: url!, max: 3 })) : [db];
    const claimers = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => new Queue(pools[i % pools.length]!));
    const seen: number[] = [];
    await Promise.all(
      claimers.map(async (q, i) => {
        for (;;) {
          const jobs = await q.claim(`w${i}`, ['excl'], 7, 30_000);
          if (jobs.length === 0) return;
          for (const j of jobs) {
            seen.push(j.payload.n as number);
            expect(await q.complete(j)).toBe(true);
          }
        }
      }),
    );
    if (kind === 'postgres') await Promise.all(pools.map((p) => p.close()));
    expect(seen.length).toBe(200);
    expect(new Set(seen).size).toBe(200);
    expect(await jobCount(db, 'excl')).toBe(0);
  });

  it('re-delivers a job whose lease expired and fences the old owner out', async () => {
    await queue.enqueue({ kind: 'lease', payload: { x: 1 } });
    const [first] = await queue.claim('crashed', ['lease'], 1, 300);
    expect(first?.attempts).toBe(1);
    expect(await queue.claim('other', ['lease'], 1, 300)).toEqual([]);
    await sleep(450);
    const [again] = await queue.claim('other', ['lease'], 1, 10_000);
    expect(again?.id).toBe(first!.id);
    expect(again?.attempts).toBe(2);
    // The first owner woke up late: it can neither renew, finish nor fail the job any more.
    expect(await queue.renew(first!, 1000)).toBe(false);
    expect(await queue.complete(first!)).toBe(false);
    expect(await queue.fail(first!, new Error('late'))).toBe('lost');
    expect(await jobCount(db, 'lease')).toBe(1);
    expect(await queue.complete(again!)).toBe(true);
    expect(await jobCount(db, 'lease')).toBe(0);
  });

  it('loses no job when a worker dies mid-job: another worker finishes it', async () => {
    await queue.enqueue({ kind: 'crash', payload: { v: 7 } });
    // Worker A claims and then "dies": its handler never returns and it never renews.
    const [lost] = await queue.claim('dead-worker', ['crash'], 1, 200);
    expect(lost).toBeDefined();
    const handled: number[] = [];
    const w = new Worker(queue, { handlers: { crash: async (job) => void handled.push(job.attempts) }, pollMs: 50, leaseMs: 5000 });
    await w.start();
    for (let i = 0; i < 60 && handled.length === 0; i++) await sleep(25);
    await w.stop();
    expect(handled).toEqual([2]);
    expect(await jobCount(db, 'crash')).toBe(0);
  });

  it('coalesces keyed jobs and re-runs a job re-added while it was being worked on', async () => {
    await queue.enqueue({ kind: 'keyed', key: 'k1', payload: { a: 1 } });
    await queue.enqueue({ kind: 'keyed', key: 'k1', payload: { a: 2 } });
    expect(await jobCount(db, 'keyed')).toBe(1);
    const runs: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = new Worker(queue, {
      handlers: {
        keyed: async (job) => {
          runs.push(job.payload.a);
          if (runs.length === 1) await gate;
        },
      },
      pollMs: 5_000,
    });
    await w.start();
    // The first run must have claimed the job, or the re-add would merge into the waiting job.
    await expect.poll(() => runs.length).toBe(1);
    await queue.enqueue({ kind: 'keyed', key: 'k1', payload: { a: 3 } });
    release();
    await expect.poll(() => runs.length).toBe(2);
    await w.idle();
    await w.stop();
    expect(runs).toEqual([2, 3]);
    expect(await jobCount(db, 'keyed')).toBe(0);
  });

  it('releases a job for another run when it is re-added while its worker finishes it', async () => {
    await queue.enqueue({ kind: 'race', key: 'r1' });
    const [job] = await queue.claim('w', ['race'], 1, 30_000);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let added!: () => void;
    const addedNow = new Promise<void>((r) => (added = r));
    // A transaction re-adds the key (locking the row) and commits only after `complete` started.
    const adder = queue.tx(async (_tx, outbox) => {
      await outbox.add({ kind: 'race', key: 'r1' });
      added();
      await held;
    });
    await addedNow;
    const completing = queue.complete(job!);
    await sleep(100);
    release();
    await adder;
    expect(await completing).toBe(true);
    const again = await queue.claim('w', ['race'], 1, 30_000);
    expect(again.map((j) => j.id)).toEqual([job!.id]);
    expect(await queue.complete(again[0]!)).toBe(true);
    expect(await jobCount(db, 'race')).toBe(0);
  });

  it('completes jobs finishing together in batches: clean ones deleted, re-added ones released, lost ones refused', async () => {
    for (let i = 0; i < 30; i++) await queue.enqueue({ kind: 'batch', key: `b${i}` });
    const jobs = await queue.claim('w', ['batch'], 30, 30_000);
    expect(jobs).toHaveLength(30);
    const byKey = new Map(jobs.map((j) => [j.key, j]));
    // b2 lost its lease; b1 is re-added by a transaction still open while the batch runs (its row
    // locked on PostgreSQL; on PGlite the batch waits for that transaction's connection).
    await db.query(`UPDATE baton_jobs SET generation = generation + 1 WHERE job_key = 'b2'`);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let added!: () => void;
    const addedNow = new Promise<void>((r) => (added = r));
    const adder = queue.tx(async (_tx, outbox) => {
      await outbox.add({ kind: 'batch', key: 'b1' });
      added();
      await held;
    });
    await addedNow;
    const results = jobs.map((j) => queue.complete(j));
    await sleep(100);
    release();
    await adder;
    const outcome = new Map(jobs.map((j, k) => [j.key, results[k]!]));
    expect(await outcome.get('b1')).toBe(true);
    expect(await outcome.get('b2')).toBe(false);
    expect(await Promise.all(jobs.filter((j) => j.key !== 'b2').map((j) => outcome.get(j.key)))).toEqual(Array(29).fill(true));
    const left = await db.query<{ job_key: string; locked_by: string | null }>(`SELECT job_key, locked_by FROM baton_jobs WHERE kind = 'batch' ORDER BY job_key`);
    expect(left.rows).toEqual([
      { job_key: 'b1', locked_by: null },
      { job_key: 'b2', locked_by: 'w' },
    ]);
    const again = await queue.claim('w', ['batch'], 5, 30_000);
    expect(again.map((j) => j.id)).toEqual([byKey.get('b1')!.id]);
    await queue.complete(again[0]!);
    await db.query(`DELETE FROM baton_jobs WHERE kind = 'batch'`);
  });

  it('retries a failing job with backoff and parks it after max attempts', async () => {
    await queue.enqueue({ kind: 'flaky', maxAttempts: 2 });
    const [a] = await queue.claim('w', ['flaky'], 1, 1000);
    expect(await queue.fail(a!, new Error('boom 1'))).toBe('retry');
    expect(await queue.claim('w', ['flaky'], 1, 1000)).toEqual([]);
    await db.query(`UPDATE baton_jobs SET run_at = now() WHERE kind = 'flaky'`);
    const [b] = await queue.claim('w', ['flaky'], 1, 1000);
    expect(b?.attempts).toBe(2);
    expect(await queue.fail(b!, new Error('boom 2'))).toBe('failed');
    await db.query(`UPDATE baton_jobs SET run_at = now() WHERE kind = 'flaky'`);
    expect(await queue.claim('w', ['flaky'], 1, 1000)).toEqual([]);
    const row = await db.query<{ last_error: string }>(`SELECT last_error FROM baton_jobs WHERE kind = 'flaky'`);
    expect(row.rows[0]?.last_error).toBe('boom 2');
  });

  it('wakes a worker at once for a job added by this process or, on PostgreSQL, another one', async () => {
    const got: number[] = [];
    const w = new Worker(queue, { handlers: { wake: async () => void got.push(Date.now()) }, pollMs: 60_000 });
    await w.start();
    const t0 = Date.now();
    await queue.enqueue({ kind: 'wake' });
    // Woken, not polled (the poll is a minute); the bound leaves room for a loaded machine.
    await expect.poll(() => got.length).toBe(1);
    expect(got[0]! - t0).toBeLessThan(3000);
    if (kind === 'postgres') {
      const other = new PgDb({ connectionString: url!, max: 2 });
      const t1 = Date.now();
      await new Queue(other).enqueue({ kind: 'wake' });
      await expect.poll(() => got.length).toBe(2);
      await other.close();
      expect(got[1]! - t1).toBeLessThan(3000);
    }
    await w.stop();
  });

  it('runs a delayed job when its time comes', async () => {
    const got: number[] = [];
    const w = new Worker(queue, { handlers: { later: async () => void got.push(Date.now()) }, pollMs: 60_000 });
    await w.start();
    const t0 = Date.now();
    await queue.enqueue({ kind: 'later', runAt: new Date(t0 + 300) });
    await sleep(150);
    expect(got).toEqual([]);
    await expect.poll(() => got.length).toBe(1);
    await w.stop();
    expect(got[0]! - t0).toBeGreaterThanOrEqual(295);
  });
});
