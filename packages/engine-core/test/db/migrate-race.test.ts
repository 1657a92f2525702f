import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDb } from '@baton/engine-core';
import { createTestDatabase, type Database } from '../../../../test/setup/infra.js';

const child = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));
// tsx's ESM loader, so each competitor is a plain `node` process running TypeScript.
const tsxLoader = createRequire(import.meta.url).resolve('tsx');
const COMPETITORS = 4;

interface Competitor {
  proc: ChildProcess;
  ready: Promise<void>;
  done: Promise<{ code: number | null; out: string; err: string }>;
}

function compete(url: string, pkg: string, dir: string): Competitor {
  const proc = spawn(process.execPath, ['--import', tsxLoader, child, url, pkg, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('ready\n')) markReady();
  });
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    proc.on('exit', (code) => {
      markReady();
      resolve({ code, out, err });
    });
  });
  return { proc, ready, done };
}

describe('migrate: processes racing at start-up', () => {
  let database: Database;
  let db: PgDb;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new PgDb({ connectionString: database.url });
    dir = await mkdtemp(path.join(os.tmpdir(), 'baton-race-'));
    // Neither migration survives a second run: CREATE TABLE without IF NOT EXISTS fails, and the
    // counter would show a duplicate even if it did not.
    await writeFile(
      path.join(dir, '0001_create.sql'),
      'CREATE TABLE race_counter (version INTEGER NOT NULL, pid INTEGER NOT NULL DEFAULT pg_backend_pid());\nCREATE TABLE race_first (id INTEGER PRIMARY KEY);\nINSERT INTO race_counter (version) VALUES (1);\n',
    );
    await writeFile(
      path.join(dir, '0002_second.sql'),
      'CREATE TABLE race_second (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(0.2);\nINSERT INTO race_counter (version) VALUES (2);\n',
    );
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`${COMPETITORS} processes started together apply each migration exactly once`, async () => {
    const racers = Array.from({ length: COMPETITORS }, () => compete(database.url, 'race', dir));
    await Promise.all(racers.map((r) => r.ready));
    for (const r of racers) r.proc.stdin!.end('go\n');
    const results = await Promise.all(racers.map((r) => r.done));

    for (const res of results) expect(res, `competitor output:\n${res.out}\n${res.err}`).toMatchObject({ code: 0 });
    const appliedBy = results.map((res) => (JSON.parse(res.out.trim().split('\n').at(-1)!) as { applied: number[] }).applied);
    expect(appliedBy.flat().sort()).toEqual([1, 2]);

    const counter = await db.query<{ version: number; n: number }>('SELECT version, count(*)::int AS n FROM race_counter GROUP BY version ORDER BY version');
    expect(counter.rows).toEqual([
      { version: 1, n: 1 },
      { version: 2, n: 1 },
    ]);
    const recorded = await db.query<{ version: number }>("SELECT version FROM baton_migrations WHERE pkg = 'race' ORDER BY version");
    expect(recorded.rows).toEqual([{ version: 1 }, { version: 2 }]);
  });
});
