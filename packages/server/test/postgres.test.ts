import { loadMigrations } from '@baton/engine-core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, requirePostgres, type Database } from '../../../test/setup/infra.js';
import { packageMigrations } from '../src/migrations.js';
import { spawnBaton, stop, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

describe('two baton processes started together on one PostgreSQL', () => {
  let database: Database | undefined;
  const procs: BatonProcess[] = [];

  afterAll(async () => {
    await Promise.all(procs.map(stop));
    await database?.drop();
  });

  it('apply each migration exactly once and both become ready', async () => {
    // Fails with instructions when the run has no PostgreSQL: this test must never pass vacuously.
    database = await createTestDatabase();
    for (let i = 0; i < 2; i++) procs.push(spawnBaton({ PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: database.url, BATON_TOKENS: 'ops:admin:migration-race-token-0123456789' }));
    await Promise.all(procs.map((p) => waitUntilReady(p)));

    const expected = (await Promise.all(packageMigrations.map((src) => loadMigrations(src)))).flat().map((m) => `${m.pkg}:${m.version}`);
    const applied = procs.flatMap((p) => p.logs.filter((l) => l.msg === 'migration applied').map((l) => `${String(l.pkg)}:${String(l.version)}`));
    expect(applied.sort()).toEqual([...expected].sort());

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ key: string }>("SELECT pkg || ':' || version AS key FROM baton_migrations ORDER BY 1");
      expect(rows.map((r) => r.key).sort()).toEqual([...expected].sort());
    } finally {
      await client.end();
    }

    for (const p of procs) p.child.kill('SIGTERM');
    for (const p of procs) expect(await p.exited).toEqual({ code: 0, signal: null });
    for (const p of procs) expect(p.stderr()).toBe('');
  });
});

describe('baton serve against a PostgreSQL that turns it away', () => {
  it('names DATABASE_URL in one line when the database does not exist', async () => {
    const url = new URL(requirePostgres().url);
    url.pathname = '/baton_no_such_database';
    const proc = spawnBaton({ PORT: '0', DATABASE_URL: url.toString() });
    try {
      expect((await proc.exited).code).toBe(1);
      expect(proc.stderr()).toMatch(/^baton: DATABASE_URL: cannot connect to PostgreSQL at .*baton_no_such_database: database does not exist\n$/);
    } finally {
      await stop(proc);
    }
  });
});
