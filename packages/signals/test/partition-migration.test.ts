import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { migrate, PgDb, PGliteDb, type Db } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { signalsMigrations } from '../src/migrations.js';
import { listPartitions } from '../src/partitions.js';
import { runRetentionPass } from '../src/retention.js';
import { SignalService } from '../src/service.js';
import { STARTS_TABLE, TableStarter, testExpressions } from './helpers.js';

// The signals migrations before partitioning, to build a database as an older Baton left it.
let before: string;
beforeAll(async () => {
  before = await mkdtemp(path.join(os.tmpdir(), 'retention-migrations-'));
  for (const f of await readdir(signalsMigrations.dir)) {
    if (f.endsWith('.sql') && Number(f.slice(0, 4)) < 200) await copyFile(path.join(signalsMigrations.dir, f), path.join(before, f));
  }
});
afterAll(async () => {
  await rm(before, { recursive: true, force: true });
});

const ROWS = 500;

async function migrateWithData(db: Db): Promise<void> {
  await migrate(db, [{ pkg: 'signals', dir: before }]);
  await db.exec(STARTS_TABLE);
  await db.query(
    `INSERT INTO signal_instances (name, seq_id, instance_id, request_id, params, create_time)
     SELECT 'old/x', g, 'req-' || g, 'req-' || g, jsonb_build_object('n', g), now() - interval '10 days' + g * interval '1 second'
     FROM generate_series(1, ${ROWS}) g`,
  );
  await db.query(`INSERT INTO signal_names (name, last_seq) VALUES ('old/x', ${ROWS})`);
  await migrate(db, [signalsMigrations]);
}

async function check(db: Db): Promise<void> {
  const svc = new SignalService(db, { starter: new TableStarter(), expressions: testExpressions });
  try {
    expect((await db.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE relname = 'signal_instances'`)).rows[0]!.relkind).toBe('p');
    const parts = await listPartitions(db);
    const legacy = parts.find((p) => p.name === 'signal_instances_p_legacy')!;
    // Old rows expire 30 days after the migration; their partition ends at the UTC midnight after.
    expect(legacy.to!.getTime()).toBeGreaterThan(Date.now() + 30 * 86_400_000);
    expect((await svc.getInstance('old/x', 42)).params).toEqual({ n: 42 });
    // Their dedupe keys came along; new instances continue the sequence.
    const [dup] = await svc.publish([{ name: 'old/x', params: { n: 42 }, request_id: 'req-42' }]);
    expect(dup).toMatchObject({ seq_id: 42, duplicate: true });
    const [fresh] = await svc.publish([{ name: 'old/x', params: { n: 0 }, request_id: 'new-1' }]);
    expect(fresh).toMatchObject({ seq_id: ROWS + 1, duplicate: false });
    expect((await svc.listInstances('old/x', { limit: 1000 })).instances).toHaveLength(ROWS + 1);

    // Day partitions follow the legacy one; once all of it expired, the pass drops it whole.
    const pass = await runRetentionPass(db, { now: new Date(Date.now() + 32 * 86_400_000) });
    expect(pass.dropped.map((d) => d.partition)).toContain('signal_instances_p_legacy');
    // The new instance's match job is still queued (no matcher ran): it is kept, the rest goes.
    expect(pass.dropped.find((d) => d.partition === 'signal_instances_p_legacy')).toMatchObject({ rows: ROWS, kept: 1 });
    const left = await db.query<{ seq_id: number }>('SELECT seq_id FROM signal_instances');
    expect(left.rows).toEqual([{ seq_id: ROWS + 1 }]);
    const keys = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_instance_keys');
    expect(keys.rows[0]!.n).toBe(1);
  } finally {
    await svc.stop();
  }
}

describe('migration 0200 on a database with signals', () => {
  it('turns the plain table into the first partition of the partitioned one (PostgreSQL)', async () => {
    let database: Database | undefined;
    let db: PgDb | undefined;
    try {
      database = await createTestDatabase();
      db = new PgDb({ connectionString: database.url, max: 3, applicationName: 'retention-migration-test' });
      await migrateWithData(db);
      await check(db);
    } finally {
      await db?.close();
      await database?.drop();
    }
  });

  it('does the same on PGlite', async () => {
    const db = await PGliteDb.open({});
    try {
      await migrateWithData(db);
      await check(db);
    } finally {
      await db.close();
    }
  });
});
