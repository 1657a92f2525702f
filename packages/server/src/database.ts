import { access } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { PGliteDb, PgDb, type Db } from '@baton/engine-core';
import { redactUrl, type ServerConfig } from './config.js';
import { claimDataDir } from './data-dir.js';
import { StartupError } from './startup-error.js';

/** How long start-up waits for PostgreSQL before giving up with a clear message. */
export const CONNECT_TIMEOUT_MS = 5000;

export interface OpenedDatabase {
  db: Db;
  /** Where the data lives, for logs: a redacted URL or the PGlite folder. */
  target: string;
  close(): Promise<void>;
}

/** PostgreSQL when `DATABASE_URL` is set, else the embedded PGlite in the data folder. */
export async function openDatabase(config: ServerConfig): Promise<OpenedDatabase> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPglite(config.dataDir);
}

async function openPostgres(url: string): Promise<OpenedDatabase> {
  const target = redactUrl(url);
  // The pool has no connect timeout of its own, so reachability is proved once up front with one.
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: CONNECT_TIMEOUT_MS });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (err) {
    throw new StartupError('DATABASE_URL', `cannot connect to PostgreSQL at ${target}: ${describePgError(err)}`, { cause: err });
  } finally {
    await probe.end().catch(() => {});
  }
  const db = new PgDb({ connectionString: url, applicationName: 'baton' });
  return { db, target, close: () => db.close() };
}

/** PGlite's own folder inside the data folder (a sub-folder keeps its files apart from Baton's lock). */
function pgliteDir(dataDir: string): string {
  return path.join(dataDir, 'pglite');
}

/**
 * What opening the database will do, for the log line said before it: creating the embedded
 * database (its first start, several seconds), opening it, or connecting to PostgreSQL.
 */
export async function databasePlan(config: ServerConfig): Promise<{ action: 'connecting to PostgreSQL' | 'creating the embedded database' | 'opening the embedded database'; target: string }> {
  if (config.databaseUrl) return { action: 'connecting to PostgreSQL', target: redactUrl(config.databaseUrl) };
  const exists = await access(path.join(pgliteDir(config.dataDir), 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  return { action: exists ? 'opening the embedded database' : 'creating the embedded database', target: config.dataDir };
}

async function openPglite(dataDir: string): Promise<OpenedDatabase> {
  const release = await claimDataDir(dataDir);
  let db: PGliteDb;
  try {
    db = await PGliteDb.open({ dataDir: pgliteDir(dataDir) });
  } catch (err) {
    await release();
    const why = err instanceof Error ? err.message : String(err);
    throw new StartupError('BATON_DATA_DIR', `cannot open the embedded database in "${dataDir}": ${why}`, { cause: err });
  }
  return {
    db,
    target: dataDir,
    async close() {
      try {
        await db.close();
      } finally {
        await release();
      }
    },
  };
}

function describePgError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running on that host and port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'ETIMEDOUT':
      return `no answer within ${CONNECT_TIMEOUT_MS} ms`;
    case '28P01':
    case '28000':
      return 'authentication failed (check user and password)';
    case '3D000':
      return 'database does not exist';
  }
  if (/timeout/i.test(e.message ?? '')) return `no answer within ${CONNECT_TIMEOUT_MS} ms`;
  return (e.message ?? String(err)).split('\n')[0]!;
}
