import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { migrate, PGliteDb, type Db } from '@baton/engine-core';
import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { packageMigrations } from '../src/migrations.js';
import { loadServiceSettings } from '../src/service-config.js';
import { createServices } from '../src/services.js';

let db: PGliteDb | undefined;
afterAll(async () => {
  await db?.close().catch(() => {});
});

/**
 * The database as a pg pool behaves once ended: every later call fails. PGlite itself would still
 * answer queries that were queued before close, hiding a poller that outlives stop().
 */
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function endable(inner: Db): { db: Db; end(): void } {
  let ended = false;
  const guard = (name: string | symbol): boolean => ended && (name === 'query' || name === 'exec' || name === 'tx');
  const db = new Proxy(inner, {
    get(target, name, receiver) {
      if (guard(name)) return () => Promise.reject(new Error('Cannot use a pool after calling end on the pool'));
      const v: unknown = Reflect.get(target, name, receiver);
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(target);
      // A network round trip: a poll over many events spans many event-loop turns, as on PostgreSQL.
      if (name === 'query') return async (...args: unknown[]) => (await delay(2), fn(...args));
      return fn;
    },
  });
  return { db, end: () => void (ended = true) };
}

/** Every line the logger wrote, parsed. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

it('stops every poller before returning: nothing touches the closed database afterwards', async () => {
  db = await PGliteDb.open({});
  await migrate(db, [...packageMigrations]);
  const pool = endable(db);
  const { logger, lines } = capturedLogger();
  const pollMs = 5;
  for (let round = 0; round < 3; round++) {
    const services = createServices({ db: pool.db, logger, settings: loadServiceSettings({}, tmpdir()), eventPollMs: pollMs });
    await services.start();
    // Events of other processes: both followers (signal triggers and time triggers) work through
    // them one workflow at a time, so their polls are still running when stop() is called.
    await db.exec(`INSERT INTO baton_workflow_events (workflow_id, kind, version) SELECT 'wf-' || g, 'activated', 1 FROM generate_series(1, 300) g`);
    await delay(20 + round * 7);
    await services.stop();
  }
  pool.end();
  await delay(20 * pollMs + 500);
  const errors = lines.filter((l) => (l.level as number) >= 50);
  expect(errors).toEqual([]);
  expect(lines.filter((l) => l.msg === 'services started')).toHaveLength(3);
}, 60_000);
