import { DEFAULT_SEL_TIMEOUT_MS, DEFAULT_STEP_LOG_LIMITS, HostAllowList, parseDurationSeconds, type ParamValidatorMode } from '@baton/engine-core';
import { loadSourcesConfig, SourcesConfigError, type SourcesConfig } from './wiring/signals-sources.js';
import { DEFAULT_MATCH_LAG_WHILE_INGESTING_MS } from '@baton/signals';
import { StartupError } from './startup-error.js';
import { SERVICE_SETTINGS } from './service-settings.js';
import { loadRetentionSettings, type RetentionSettings } from './retention-settings.js';

export { SERVICE_SETTINGS };

/** Settings of the domain services (engine, runtimes, sources and sinks), read from the environment. */
export interface ServiceSettings {
  /** Hosts Http steps may call (exact names, `*.example.com`, or `host:port`); empty refuses every request. */
  httpAllowedHosts: string[];
  /** Shell steps run programs as the service's user, so they are opt-in. */
  shellSteps: boolean;
  /** Output kept per step attempt: bytes per Shell stream, bytes of an Http response body. */
  stepLogs: { maxBytes: number; httpBodyBytes: number };
  /** Multiplies every wait a step makes (Sleep); 1 is real time. */
  timeScale: number;
  /** Queue jobs (dispatch, advance, step attempts) this process runs at once. */
  engineConcurrency: number;
  /** Whether param validators are checked (`enforce`) or only kept, as Maestro does (`ignore`). */
  paramValidators: ParamValidatorMode;
  /** Wall-clock limit of one SEL evaluation in ms (0 = none). */
  selTimeoutMs: number;
  /** Worker threads for SEL programs that may run long (undefined = the engine's default). */
  selWorkers: number | undefined;
  /** SEL evaluations that may wait for a worker. */
  selQueueLimit: number | undefined;
  /** Time triggers firing closer together than this are refused at push (and not scheduled). */
  minTriggerIntervalMs: number;
  /** A workflow's first version must name its owner (Maestro's rule; on unless BATON_REQUIRE_OWNER=0). */
  requireOwner: boolean;
  /** How far the signal matcher may lag behind while this process ingests Kafka in bulk, ms (0: match eagerly). */
  matchLagWhileIngestingMs: number;
  /** Kafka/SNS/CloudEvents sources and outbound sinks. */
  sources: SourcesConfig;
  /** Signal retention per name and how often the retention pass runs. */
  retention: RetentionSettings;
}

export const DEFAULT_MIN_TRIGGER_INTERVAL_MS = 60_000;

type Env = Readonly<Record<string, string | undefined>>;



function setting(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

/** Reads and validates the service settings; throws StartupError naming the first wrong setting. */
export function loadServiceSettings(env: Env = process.env, cwd: string = process.cwd()): ServiceSettings {
  return {
    httpAllowedHosts: parseHosts(setting(env, 'BATON_HTTP_ALLOWED_HOSTS')),
    shellSteps: parseFlag('BATON_SHELL_STEPS', setting(env, 'BATON_SHELL_STEPS')),
    stepLogs: {
      maxBytes: parseByteSize('BATON_STEP_LOG_BYTES', setting(env, 'BATON_STEP_LOG_BYTES'), DEFAULT_STEP_LOG_LIMITS.maxBytes),
      httpBodyBytes: parseByteSize('BATON_STEP_HTTP_BODY_BYTES', setting(env, 'BATON_STEP_HTTP_BODY_BYTES'), DEFAULT_STEP_LOG_LIMITS.httpBodyBytes),
    },
    timeScale: parseTimeScale(setting(env, 'BATON_TIME_SCALE')),
    engineConcurrency: parseConcurrency(setting(env, 'BATON_ENGINE_CONCURRENCY')),
    paramValidators: parseParamValidators(setting(env, 'BATON_PARAM_VALIDATORS')),
    selTimeoutMs: parseMilliseconds('BATON_SEL_TIMEOUT', setting(env, 'BATON_SEL_TIMEOUT'), DEFAULT_SEL_TIMEOUT_MS, 3_600_000),
    selWorkers: parseWholeNumber('BATON_SEL_WORKERS', setting(env, 'BATON_SEL_WORKERS'), 1, 64),
    selQueueLimit: parseWholeNumber('BATON_SEL_QUEUE_LIMIT', setting(env, 'BATON_SEL_QUEUE_LIMIT'), 1, 100_000),
    minTriggerIntervalMs: parseMinTriggerInterval(setting(env, 'BATON_MIN_TRIGGER_INTERVAL')),
    requireOwner: parseFlag('BATON_REQUIRE_OWNER', setting(env, 'BATON_REQUIRE_OWNER'), true),
    matchLagWhileIngestingMs: parseMilliseconds('BATON_MATCH_LAG_WHILE_INGESTING', setting(env, 'BATON_MATCH_LAG_WHILE_INGESTING'), DEFAULT_MATCH_LAG_WHILE_INGESTING_MS, 600_000),
    sources: loadSources(env, cwd),
    retention: loadRetentionSettings(env),
  };
}

function parseHosts(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const hosts = raw.split(',').map((h) => h.trim()).filter(Boolean);
  try {
    new HostAllowList(hosts);
  } catch (err) {
    throw new StartupError('BATON_HTTP_ALLOWED_HOSTS', (err as Error).message);
  }
  return hosts;
}

function parseFlag(name: string, raw: string | undefined, fallback = false): boolean {
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new StartupError(name, `must be 1 or 0, got ${JSON.stringify(raw)}`);
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1024 ** 2, mb: 1000 ** 2, gib: 1024 ** 3, gb: 1000 ** 3 };
const MAX_LOG_BYTES = 1024 ** 3;

/** Bytes (`1048576`) or a size with a unit (`512KiB`, `4MiB`, `1MB`); from 2 bytes to 1 GiB. */
function parseByteSize(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const m = /^(\d+)\s*([a-z]*)$/i.exec(raw);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : NaN;
  if (!(n >= 2 && n <= MAX_LOG_BYTES)) throw new StartupError(name, `must be a size from 2 bytes to 1GiB such as 1048576, 512KiB or 4MiB, got ${JSON.stringify(raw)}`);
  return n;
}

function parseTimeScale(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(raw) || !(n > 0) || n > 1000) {
    throw new StartupError('BATON_TIME_SCALE', `must be a number above 0 and at most 1000, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseConcurrency(raw: string | undefined): number {
  if (raw === undefined) return 32;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 1000)) throw new StartupError('BATON_ENGINE_CONCURRENCY', `must be a whole number from 1 to 1000, got ${JSON.stringify(raw)}`);
  return n;
}

/** `500` or `500ms` (milliseconds), `5s` (seconds), from 0 to `max` ms (a whole hour or minutes). */
function parseMilliseconds(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const m = /^(\d+)\s*(ms|s)?$/i.exec(raw);
  const ms = m ? Number(m[1]) * (m[2]?.toLowerCase() === 's' ? 1000 : 1) : NaN;
  if (!(ms >= 0 && ms <= max)) {
    const limit = max % 3_600_000 === 0 ? `${max / 3_600_000} hour${max === 3_600_000 ? '' : 's'}` : `${max / 60_000} minutes`;
    throw new StartupError(name, `must be milliseconds (500, 500ms) or seconds (5s) from 0 to ${limit}, got ${JSON.stringify(raw)}`);
  }
  return ms;
}

function parseWholeNumber(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new StartupError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function parseParamValidators(raw: string | undefined): ParamValidatorMode {
  if (raw === undefined) return 'enforce';
  const mode = raw.toLowerCase();
  if (mode === 'enforce' || mode === 'ignore') return mode;
  throw new StartupError('BATON_PARAM_VALIDATORS', `must be enforce or ignore, got ${JSON.stringify(raw)}`);
}

/** Whole seconds (`30`) or a duration (`30s`, `5m`, `1h`); at least one second, at most a day. */
function parseMinTriggerInterval(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_MIN_TRIGGER_INTERVAL_MS;
  let seconds: number;
  try {
    seconds = parseDurationSeconds(raw);
  } catch (err) {
    throw new StartupError('BATON_MIN_TRIGGER_INTERVAL', `must be seconds or a duration such as 30s or 5m: ${(err as Error).message}`);
  }
  if (!(seconds >= 1 && seconds <= 86_400)) {
    throw new StartupError('BATON_MIN_TRIGGER_INTERVAL', `must be from 1 second to 1 day, got ${JSON.stringify(raw)}`);
  }
  return seconds * 1000;
}

function loadSources(env: Env, cwd: string): SourcesConfig {
  const file = setting(env, 'BATON_CONFIG');
  try {
    return loadSourcesConfig(file ? { ...env, BATON_SOURCES_CONFIG: file } : env, cwd);
  } catch (err) {
    if (!(err instanceof SourcesConfigError)) throw err;
    const name = file ? 'BATON_CONFIG' : env.BATON_SOURCES_CONFIG ? 'BATON_SOURCES_CONFIG' : (err.errors[0]?.field ?? 'BATON_CONFIG');
    const where = err.file ? `${err.file}: ` : '';
    throw new StartupError(name, `${where}${err.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
}
