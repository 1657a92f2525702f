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
  let client: { c: pg.PoolClient; release: () => void } | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const reconnect = (): void => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 500);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    let c: pg.PoolClient | undefined;
    // A connection is given back once, by whichever comes first: stop, its 'error', a failed
    // LISTEN. The server can still end the session after stop gave it back (a backend slow to
    // read the Terminate meets DROP DATABASE ... WITH (FORCE) or a restart): a second release
    // would throw out of the 'error' event, uncaught. Once given back, the pool hears its errors.
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      c!.removeListener('error', onError);
      c!.release(true);
      if (client?.c === c) client = undefined;
    };
    const onError = (): void => {
      release();
      reconnect();
    };
    try {
      c = await pool.connect();
      c.on('notification', (msg) => {
        if (msg.channel === 'baton_jobs' && msg.payload) onJob(msg.payload);
      });
      c.on('error', onError);
      await c.query('LISTEN baton_jobs');
      if (released) return;
      if (stopped) return release();
      client = { c, release };
    } catch {
      if (c) release();
      reconnect();
    }
  };
  await connect();

  return async () => {
    stopped = true;
    clearTimeout(retry);
    const held = client;
    client = undefined;
    if (held) {
      await held.c.query('UNLISTEN baton_jobs').catch(() => {});
      held.release();
    }
  };
}
