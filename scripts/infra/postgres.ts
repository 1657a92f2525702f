import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { makeRunDir } from './paths.js';
import { freePort, onPath, run, ServerProcess } from './proc.js';
import { manageProcess, type ManagedServer } from './server.js';

const MIN_MAJOR = 15;

export interface PostgresServer extends ManagedServer {
  /** Superuser URL of the `postgres` database, trust auth on 127.0.0.1. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
}

async function serverMajor(bindir: string): Promise<number> {
  const out = await run(path.join(bindir, 'postgres'), ['--version']);
  return Number(/(\d+)(?:\.\d+)?/.exec(out)?.[1] ?? 0);
}

/** Finds PostgreSQL 15+ server binaries: BATON_PG_BINDIR, Debian's layout, then pg_config. */
export async function findPostgresBinaries(): Promise<string | undefined> {
  const candidates: string[] = [];
  if (process.env.BATON_PG_BINDIR) candidates.push(process.env.BATON_PG_BINDIR);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = (await readdir(debian)).map(Number).filter((n) => n >= MIN_MAJOR).sort((a, b) => b - a);
    candidates.push(...majors.map((m) => path.join(debian, String(m), 'bin')));
  }
  if (await onPath('pg_config')) candidates.push((await run('pg_config', ['--bindir'])).trim());
  for (const dir of candidates) {
    if (existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb')) && (await serverMajor(dir)) >= MIN_MAJOR) {
      return dir;
    }
  }
  return undefined;
}

/** Installs the distribution's PostgreSQL server with apt (Debian/Ubuntu, as root). */
export async function installPostgres(log: (msg: string) => void = () => {}): Promise<void> {
  if (process.getuid?.() !== 0 || !(await onPath('apt-get'))) {
    throw new Error(
      `PostgreSQL ${MIN_MAJOR}+ server binaries not found and cannot be installed automatically (needs root and apt-get). ` +
        'Install PostgreSQL (e.g. `sudo apt-get install postgresql`), set BATON_PG_BINDIR to its bin folder, ' +
        'or set BATON_TEST_PG_URL to a running server.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('installing PostgreSQL: apt-get update');
  await run('apt-get', ['update'], { env });
  log('installing PostgreSQL: apt-get install -y postgresql');
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env });
}

/** Returns the bin folder of a PostgreSQL 15+ server, installing one when none is found. */
export async function ensurePostgres(log: (msg: string) => void = () => {}): Promise<string> {
  const found = await findPostgresBinaries();
  if (found) return found;
  await installPostgres(log);
  const installed = await findPostgresBinaries();
  if (!installed) throw new Error(`apt-get installed postgresql but no PostgreSQL ${MIN_MAJOR}+ server binaries were found`);
  return installed;
}

// initdb and postgres refuse to run as root: as root, run them as the `postgres` system user
// that the Debian package creates.
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root but there is no `postgres` user to run the server as (install the postgresql package)');
  }
}

async function dataDirFor(user: { uid: number; gid: number } | undefined): Promise<{ dir: string; cleanup: string }> {
  const runDir = await makeRunDir('postgres');
  if (!user) return { dir: path.join(runDir, 'data'), cleanup: runDir };
  await chown(runDir, user.uid, user.gid);
  try {
    // The postgres user must be able to reach the folder through every parent (a checkout under
    // /root is not); fall back to the system temp folder then.
    await run('test', ['-w', runDir], user);
    return { dir: path.join(runDir, 'data'), cleanup: runDir };
  } catch {
    await rm(runDir, { recursive: true, force: true });
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'baton-pg-'));
    await chown(tmp, user.uid, user.gid);
    return { dir: path.join(tmp, 'data'), cleanup: tmp };
  }
}

async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface StartPostgresOptions {
  port?: number;
  log?: (msg: string) => void;
  /** More server settings (`-c name=value`), e.g. recommendedSettings() of postgres-settings.ts. */
  settings?: Readonly<Record<string, string>>;
}

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, no unix socket). Durability
 * settings are relaxed for speed (fsync off): every commit is still written to the OS before it is
 * acknowledged, so a killed server recovers all committed data; only a machine crash could lose it.
 * synchronous_commit stays on for that reason: chaos tests crash the server and count rows.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const log = opts.log ?? (() => {});
  const bindir = await ensurePostgres(log);
  const user = await serverUser();
  const { dir: dataDir, cleanup } = await dataDirFor(user);
  await run(
    path.join(bindir, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
    { ...user, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } },
  );
  const port = opts.port ?? (await freePort());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const args = [
    '-D', dataDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=300',
    '-c', 'fsync=off',
    '-c', 'full_page_writes=off',
    ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];

  const server = await manageProcess({
    name: 'PostgreSQL',
    async launch() {
      const proc = ServerProcess.start({
        name: 'PostgreSQL',
        cmd: path.join(bindir, 'postgres'),
        args,
        logFile: path.join(path.dirname(dataDir), 'postgres.log'),
        ...user,
        env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      });
      await proc.waitUntilReady(() => canQuery(url), 60_000);
      return proc;
    },
    // 'kill' uses immediate shutdown (SIGQUIT): no checkpoint, crash recovery at the next start.
    // A SIGKILLed postmaster would leave its backends holding shared memory and block the restart.
    cleanSignal: 'SIGINT',
    killSignal: 'SIGQUIT',
    dataDir: cleanup,
  });
  return Object.assign(server, { url, port, dataDir });
}

export interface Database {
  name: string;
  url: string;
  /** Drops the database, disconnecting anyone still connected. */
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh, uniquely named database on the server that `adminUrl` points at. */
export async function createDatabase(adminUrl: string, prefix = 'baton_test'): Promise<Database> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`database name prefix must be lower-case letters, digits and _: ${prefix}`);
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
