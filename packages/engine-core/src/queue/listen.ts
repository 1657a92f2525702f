import type pg from 'pg';
import type { Db } from '../db/db.js';
import type { PgDb } from '../db/pg-db.js';

/**
 * Holds one pooled connection in `LISTEN baton_jobs` and calls `onJob(kind)` for every NOTIFY.
 * A broken connection is replaced after a short pause; notifications missed meanwhile are covered
 * by the worker's poll. Returns a function that releases the connection.
 */
export async function listenForJobs(db: Db, onJob: (kind: string) => void): Promise<() => Promise<void>> {
  const pool = (db as PgDb).pool;
  let client: pg.PoolClient | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (stopped) return;
    try {
      const c = await pool.connect();
      c.on('notification', (msg) => {
        if (msg.channel === 'baton_jobs' && msg.payload) onJob(msg.payload);
      });
      c.on('error', () => {
        c.release(true);
        if (client === c) client = undefined;
        retry = setTimeout(() => void connect(), 500);
      });
      await c.query('LISTEN baton_jobs');
      if (stopped) {
        c.release(true);
        return;
      }
      client = c;
    } catch {
      retry = setTimeout(() => void connect(), 500);
    }
  };
  await connect();

  return async () => {
    stopped = true;
    clearTimeout(retry);
    const c = client;
    client = undefined;
    if (c) {
      await c.query('UNLISTEN baton_jobs').catch(() => {});
      c.release(true);
    }
  };
}
