import path from 'node:path';
import { StartupError } from './startup-error.js';
import { checkUnique, parseTokenList, readTokenFile, type ApiToken } from './http/tokens.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface ServerConfig {
  /** TCP port to listen on; 0 lets the operating system pick a free one (reported in the log). */
  port: number;
  host: string;
  /** PostgreSQL connection string; when absent Baton uses the embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** Absolute path of the PGlite data folder (unused when `databaseUrl` is set). */
  dataDir: string;
  logLevel: LogLevel;
  /** The level of the two lines each HTTP request logs (received, completed). */
  requestLogLevel: LogLevel;
  /** JSON lines or human-readable lines; undefined: readable when stdout is a terminal, else JSON. */
  logFormat?: LogFormat;
  /** API tokens from BATON_TOKENS and BATON_TOKENS_FILE; none means auth is off (loopback + PGlite only). */
  tokens: ApiToken[];
  /** Publish requests each token may make per window; 0 means no limit. */
  publishRateLimit: number;
  /** The rate limit's window in seconds (default 60: the limit is per minute). */
  publishRateWindowSeconds: number;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './.baton-data';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
export const DEFAULT_REQUEST_LOG_LEVEL: LogLevel = 'debug';
export const DEFAULT_PUBLISH_RATE_LIMIT = 1200;
export const DEFAULT_PUBLISH_RATE_WINDOW_SECONDS = 60;

/** The settings read from the environment, for `--help` and documentation. */
export const SETTINGS: ReadonlyArray<{ name: string; description: string }> = [
  { name: 'PORT', description: `TCP port to listen on (default ${DEFAULT_PORT}; 0 picks a free port)` },
  { name: 'HOST', description: `address to listen on (default ${DEFAULT_HOST})` },
  { name: 'DATABASE_URL', description: 'PostgreSQL URL, postgres://user:password@host:5432/db; without it Baton uses PGlite' },
  { name: 'BATON_DATA_DIR', description: `PGlite data folder when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})` },
  { name: 'LOG_LEVEL', description: `one of ${LOG_LEVELS.join(', ')} (default ${DEFAULT_LOG_LEVEL})` },
  { name: 'LOG_FORMAT', description: 'json (one JSON object a line) or pretty (readable lines); default pretty when stdout is a terminal, else json' },
  { name: 'REQUEST_LOG_LEVEL', description: `level of each HTTP request's log lines, one of ${LOG_LEVELS.join(', ')} (default ${DEFAULT_REQUEST_LOG_LEVEL})` },
  { name: 'BATON_TOKENS', description: 'API tokens, comma-separated name:role:token (role: reader, publisher or admin); required unless HOST is loopback and DATABASE_URL is unset' },
  { name: 'BATON_TOKENS_FILE', description: 'JSON or YAML file listing {name, role, token | sha256} API tokens (adds to BATON_TOKENS)' },
  { name: 'BATON_PUBLISH_RATE_LIMIT', description: `publish requests per minute per token (default ${DEFAULT_PUBLISH_RATE_LIMIT}; 0 = no limit)` },
  { name: 'BATON_PUBLISH_RATE_WINDOW', description: `the publish rate limit's window in seconds, 1 to 3600 (default ${DEFAULT_PUBLISH_RATE_WINDOW_SECONDS}, a minute)` },
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
    logLevel: parseLogLevel('LOG_LEVEL', setting(env, 'LOG_LEVEL'), DEFAULT_LOG_LEVEL),
    requestLogLevel: parseLogLevel('REQUEST_LOG_LEVEL', setting(env, 'REQUEST_LOG_LEVEL'), DEFAULT_REQUEST_LOG_LEVEL),
    logFormat: parseLogFormat(setting(env, 'LOG_FORMAT')),
    tokens: loadTokens(env, cwd),
    publishRateLimit: parsePublishRateLimit(setting(env, 'BATON_PUBLISH_RATE_LIMIT')),
    publishRateWindowSeconds: parsePublishRateWindow(setting(env, 'BATON_PUBLISH_RATE_WINDOW')),
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/**
 * Auth may be off only for the local, single-user setup: bound to loopback with the embedded
 * database. Anything reachable from elsewhere, or sharing a PostgreSQL, needs tokens.
 */
export function authRequired(config: Pick<ServerConfig, 'host' | 'databaseUrl'>): boolean {
  return config.databaseUrl !== undefined || !LOOPBACK_HOSTS.has(config.host.toLowerCase());
}

/** The start-up error when auth is required and no token is configured, else undefined. */
export function missingTokensError(config: Pick<ServerConfig, 'host' | 'databaseUrl' | 'tokens'>): StartupError | undefined {
  if (config.tokens.length > 0 || !authRequired(config)) return undefined;
  const why = config.databaseUrl !== undefined ? 'DATABASE_URL is set' : `HOST ${config.host} is not loopback`;
  return new StartupError('BATON_TOKENS', `API tokens are required because ${why}; set BATON_TOKENS=name:role:token or BATON_TOKENS_FILE`);
}

function loadTokens(env: Env, cwd: string): ApiToken[] {
  const list = setting(env, 'BATON_TOKENS');
  const file = setting(env, 'BATON_TOKENS_FILE');
  const fromList = list ? parseTokenList(list) : [];
  const fromFile = file ? readTokenFile(path.resolve(cwd, file)) : [];
  return fromList.length > 0 && fromFile.length > 0 ? checkUnique('BATON_TOKENS_FILE', [...fromList, ...fromFile]) : [...fromList, ...fromFile];
}

function parsePublishRateLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PUBLISH_RATE_LIMIT;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n)) throw new StartupError('BATON_PUBLISH_RATE_LIMIT', `must be a whole number of requests per minute (0 = no limit), got ${JSON.stringify(raw)}`);
  return n;
}

function parsePublishRateWindow(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PUBLISH_RATE_WINDOW_SECONDS;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 3600)) throw new StartupError('BATON_PUBLISH_RATE_WINDOW', `must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(raw)}`);
  return n;
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

function parseLogLevel(name: string, raw: string | undefined, fallback: LogLevel): LogLevel {
  if (raw === undefined) return fallback;
  const level = raw.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new StartupError(name, `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return level as LogLevel;
}

function parseLogFormat(raw: string | undefined): LogFormat | undefined {
  if (raw === undefined) return undefined;
  const format = raw.toLowerCase();
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new StartupError('LOG_FORMAT', `must be json or pretty, got ${JSON.stringify(raw)}`);
  return format as LogFormat;
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
