import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from './db.js';

/**
 * A package's migrations: a folder of `NNNN_name.sql` files, applied in numeric order.
 * Each package passes its own folder; the package name keeps numbering independent.
 */
export interface MigrationSource {
  pkg: string;
  dir: string;
}

export interface Migration {
  pkg: string;
  version: number;
  name: string;
  sql: string;
}

// A fixed key for pg_advisory_xact_lock: every Baton process migrating one database serialises on it.
const MIGRATION_LOCK_KEY = 7_311_402_115;

export async function loadMigrations(src: MigrationSource): Promise<Migration[]> {
  const files = (await readdir(src.dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migration file name must look like 0001_name.sql: ${path.join(src.dir, file)}`);
    out.push({ pkg: src.pkg, version: Number(m[1]), name: m[2]!, sql: await readFile(path.join(src.dir, file), 'utf8') });
  }
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new Error(`two migrations of ${src.pkg} share version ${out[i]!.version}`);
    }
  }
  return out;
}

/**
 * Applies every pending migration, each in its own transaction together with its record in
 * `baton_migrations`. The advisory lock is taken inside each transaction and the applied set is
 * re-read under it, so processes racing at start-up never apply a migration twice.
 */
export async function migrate(db: Db, sources: MigrationSource[]): Promise<Migration[]> {
  // CREATE TABLE IF NOT EXISTS is not safe under concurrency (two creators can both pass the check
  // and one fails on the catalog), so creation is serialised on the same advisory lock.
  await db.tx(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS baton_migrations (
    pkg TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (pkg, version)
  )`);
  });
  const applied: Migration[] = [];
  for (const src of sources) {
    for (const mig of await loadMigrations(src)) {
      const ran = await db.tx(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        const done = await tx.query('SELECT 1 FROM baton_migrations WHERE pkg = $1 AND version = $2', [mig.pkg, mig.version]);
        if (done.rows.length > 0) return false;
        await runScript(tx, mig.sql);
        await tx.query('INSERT INTO baton_migrations (pkg, version, name) VALUES ($1, $2, $3)', [mig.pkg, mig.version, mig.name]);
        return true;
      });
      if (ran) applied.push(mig);
    }
  }
  return applied;
}

/** True when every migration of the sources is recorded (for /readyz). */
export async function migrationsApplied(db: Db, sources: MigrationSource[]): Promise<boolean> {
  try {
    const res = await db.query<{ pkg: string; version: number }>('SELECT pkg, version FROM baton_migrations');
    const have = new Set(res.rows.map((r) => `${r.pkg}:${r.version}`));
    for (const src of sources) {
      for (const mig of await loadMigrations(src)) if (!have.has(`${mig.pkg}:${mig.version}`)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

// Statements are split on semicolons at line ends so both drivers run them with the extended
// protocol inside the caller's transaction. Migrations therefore end each statement with `;\n`
// and avoid dollar-quoted bodies that contain such lines.
async function runScript(tx: { query: Db['query'] }, sql: string): Promise<void> {
  for (const stmt of sql.split(/;\s*(?:\n|$)/)) {
    const body = stmt.replace(/^\s*--.*$/gm, '').trim();
    if (body) await tx.query(body);
  }
}
