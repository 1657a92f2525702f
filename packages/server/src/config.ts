import path from 'node:path';
import { StartupError } from './startup-error.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  /** TCP port to listen on; 0 lets the operating system pick a free one (reported in the log). */
  port: number;
  host: string;
  /** PostgreSQL connection string; when absent Baton uses the embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** Absolute path of the PGlite data folder (unused when `databaseUrl` is set). */
  dataDir: string;
  logLevel: LogLevel;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.baton-data';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** The settings read from the environment, for `--help` and documentation. */
export const SETTINGS: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'PORT', description: `TCP port to listen on (default ${DEFAULT_PORT}; 0 picks a free port)` },
  { name: 'HOST', description: `address to listen on (default ${DEFAULT_HOST})` },
  { name: 'DATABASE_URL', description: 'PostgreSQL URL, postgres://user:password@host:5432/db; without it Baton uses PGlite' },
  { name: 'BATON_DATA_DIR', description: `PGlite data folder when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})` },
  { name: 'LOG_LEVEL', description: `one of ${LOG_LEVELS.join(', ')} (default ${DEFAULT_LOG_LEVEL})` },
];

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the configuration. An empty variable counts as unset, so `PORT=` in an env
 * file falls back to the default rather than failing. Throws `StartupError` naming the setting.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): ServerConfig {
  const databaseUrl = setting(env, 'DATABASE_URL');
  if (databaseUrl !== undefined) checkDatabaseUrl(databaseUrl);
  return {
    port: parsePort(setting(env, 'PORT')),
    host: parseHost(setting(env, 'HOST')),
    databaseUrl,
    dataDir: path.resolve(cwd, setting(env, 'BATON_DATA_DIR') ?? DEFAULT_DATA_DIR),
    logLevel: parseLogLevel(setting(env, 'LOG_LEVEL')),
  };
}

function setting(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PORT;
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new StartupError('PORT', `must be a whole number from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

function parseHost(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_HOST;
  if (/[\s/]/.test(raw)) throw new StartupError('HOST', `must be a host name or IP address, got ${JSON.stringify(raw)}`);
  return raw;
}

function parseLogLevel(raw: string | undefined): LogLevel {
  if (raw === undefined) return DEFAULT_LOG_LEVEL;
  const level = raw.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new StartupError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return level as LogLevel;
}

function checkDatabaseUrl(raw: string): void {
  const bad = (why: string) =>
    new StartupError('DATABASE_URL', `${why} (expected postgres://user:password@host:5432/database), got ${JSON.stringify(redactUrl(raw))}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw bad(`has unsupported scheme "${url.protocol}"`);
  // A socket folder may be given as ?host=/path instead of a host name.
  if (!url.hostname && !url.searchParams.get('host')) throw bad('has no host');
  if (url.port && !(Number(url.port) >= 1 && Number(url.port) <= 65535)) throw bad('has an invalid port');
}

/** The URL with any password replaced, safe for logs and error messages. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Unparseable: hide everything between "://" and "@", where a password would sit.
    return raw.replace(/\/\/[^@/]*@/, '//***@');
  }
}
