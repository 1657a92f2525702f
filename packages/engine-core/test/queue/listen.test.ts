import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgDb } from '../../src/db/pg-db.js';
import { listenForJobs } from '../../src/queue/listen.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';

/**
 * The LISTEN connection on PostgreSQL: the server may end its session at any moment (a restart,
 * an administrator, DROP DATABASE ... WITH (FORCE) while the backend has not yet read the
 * Terminate that stop sent). Each connection is released exactly once, whoever comes first; a
 * second release throws out of pg's 'error' event, an uncaught exception that ends the process.
 */
describe('the job listener on postgres', () => {
  let t: TestDb;
  let admin: pg.Client;
  const listening = async (): Promise<number[]> =>
    (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE '%LISTEN baton_jobs' AND datname = current_database() AND pid <> pg_backend_pid()`)).rows.map(
      (r) => r.pid,
    );

  beforeAll(async () => {
    t = await openTestDb('postgres');
    admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
  });

  it('a session the server ends while or just after the listener stops: no uncaught error, stop never throws', async () => {
    const uncaught: unknown[] = [];
    const stopErrors: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 40; i++) {
        const stop = await listenForJobs(t.db, () => {});
        const pid = (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN baton_jobs' AND state = 'idle' AND datname = current_database()`)).rows[0]
          ?.pid;
        expect(pid).toBeDefined();
        // The kill lands before, during or after stop's UNLISTEN and release, by a few turns of the loop.
        const kill = (async () => {
          for (let k = 0; k < i % 4; k++) await new Promise((r) => setImmediate(r));
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        })();
        await stop().catch((e: unknown) => stopErrors.push(e));
        await kill;
        await new Promise((r) => setTimeout(r, 30));
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(stopErrors).toEqual([]);
    await expect.poll(listening).toEqual([]);
    // The pool is whole: every connection given back, none lost to a double release.
    const pool = (t.db as PgDb).pool;
    expect(pool.totalCount - pool.idleCount).toBe(0);
  }, 60_000);

  it('a session the server ends while listening is replaced once, hears NOTIFY again, and stop leaves none behind', async () => {
    const heard: string[] = [];
    const stop = await listenForJobs(t.db, (k) => heard.push(k));
    const [pid] = await listening();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect
      .poll(async () => {
        await admin.query(`NOTIFY baton_jobs, 'again'`);
        return heard.length;
      })
      .toBeGreaterThan(0);
    expect(heard[0]).toBe('again');
    const now = await listening();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(pid);
    await stop();
    await expect.poll(listening).toEqual([]);
  }, 30_000);
});
