import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../../../../test/setup/infra.js';

// Baton's sessions run without JIT (see pg-db.ts: it cost the matcher 0.6-1.4 s per batch at 20M
// stored signals); options in the URL still apply, and can turn it back on.
describe('PgDb sessions', () => {
  let database: Database;
  const open: PgDb[] = [];
  const session = (url: string) => {
    const db = new PgDb({ connectionString: url, max: 1 });
    open.push(db);
    return db;
  };
  const setting = async (db: PgDb, name: string) => (await db.query<{ v: string }>('SELECT current_setting($1) AS v', [name])).rows[0]!.v;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const db of open) await db.close();
    await database?.drop();
  });

  it('run with JIT off, in pooled queries and in transactions', async () => {
    const db = session(database.url);
    expect(await setting(db, 'jit')).toBe('off');
    expect(await db.tx((tx) => tx.query<{ v: string }>(`SELECT current_setting('jit') AS v`))).toMatchObject({ rows: [{ v: 'off' }] });
  });

  it("keep the URL's own options, which may turn JIT back on", async () => {
    const withOptions = (options: string) => {
      const u = new URL(database.url);
      u.searchParams.set('options', options);
      return u.toString();
    };
    const own = session(withOptions('-c work_mem=7MB'));
    expect(await setting(own, 'work_mem')).toBe('7MB');
    expect(await setting(own, 'jit')).toBe('off');
    const on = session(withOptions('-c jit=on'));
    expect(await setting(on, 'jit')).toBe('on');
  });
});
