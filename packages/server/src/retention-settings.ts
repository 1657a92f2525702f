import { parseDurationSeconds } from '@baton/engine-core';
import { DEFAULT_RETENTION_SECONDS, nameProblem, type RetentionPolicy } from '@baton/signals';
import { StartupError } from './startup-error.js';

/** How long stored signals are kept and how often the retention pass runs. */
export interface RetentionSettings {
  signals: RetentionPolicy;
  /** Finished runs: seconds after they ended; null: kept forever (the default). */
  runsSeconds: number | null;
  intervalMs: number;
  /**
   * Test only (BATON_TEST_RETENTION_CLOCK_OFFSET): the retention pass's clock runs this far ahead
   * of the real one, so partitions expire within a test run (the chaos harness). 0 in production.
   */
  clockOffsetMs: number;
}

export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;

type Env = Readonly<Record<string, string | undefined>>;

function setting(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

/**
 * BATON_SIGNAL_RETENTION (default 30d, or `forever`), BATON_SIGNAL_RETENTION_BY_NAME (a JSON
 * object: signal name -> duration or "forever"), BATON_RUN_RETENTION (finished runs; default
 * forever: run history is the audit trail of what ran, so it is only deleted when asked for) and
 * BATON_RETENTION_INTERVAL (default 1h).
 */
export function loadRetentionSettings(env: Env): RetentionSettings {
  const byName = setting(env, 'BATON_SIGNAL_RETENTION_BY_NAME');
  return {
    signals: {
      defaultSeconds: retention('BATON_SIGNAL_RETENTION', setting(env, 'BATON_SIGNAL_RETENTION') ?? `${DEFAULT_RETENTION_SECONDS}`),
      names: byName === undefined ? {} : parseByName(byName),
    },
    runsSeconds: retention('BATON_RUN_RETENTION', setting(env, 'BATON_RUN_RETENTION') ?? 'forever'),
    intervalMs: interval(setting(env, 'BATON_RETENTION_INTERVAL')),
    clockOffsetMs: clockOffset(setting(env, 'BATON_TEST_RETENTION_CLOCK_OFFSET')),
  };
}

const MAX_RETENTION_SECONDS = 100 * 365 * 86_400;

/** A duration (`30d`, `12h`, `P7D`, seconds) of at least one hour, or `forever` (null). */
function retention(name: string, raw: string): number | null {
  if (raw.toLowerCase() === 'forever') return null;
  let seconds: number;
  try {
    seconds = parseDurationSeconds(raw);
  } catch (err) {
    throw new StartupError(name, `must be a duration such as 30d, 12h or P7D, or forever: ${(err as Error).message}`);
  }
  if (!(seconds >= 3600 && seconds <= MAX_RETENTION_SECONDS)) throw new StartupError(name, `must be from 1h to 100 years, or forever, got ${JSON.stringify(raw)}`);
  return Math.round(seconds);
}

function parseByName(raw: string): Record<string, number | null> {
  const NAME = 'BATON_SIGNAL_RETENTION_BY_NAME';
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new StartupError(NAME, `must be a JSON object of signal name to duration, e.g. {"orders/created": "7d"}: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new StartupError(NAME, 'must be a JSON object of signal name to duration, e.g. {"orders/created": "7d"}');
  const out: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(doc)) {
    const problem = nameProblem(name);
    if (problem) throw new StartupError(NAME, `signal name ${JSON.stringify(name)} ${problem}`);
    if (name === '*') throw new StartupError(NAME, 'the default is BATON_SIGNAL_RETENTION, not a "*" entry');
    if (typeof value !== 'string' && typeof value !== 'number') throw new StartupError(NAME, `${JSON.stringify(name)}: must be a duration string or seconds, got ${JSON.stringify(value)}`);
    out[name] = retention(`${NAME} ${JSON.stringify(name)}`, String(value));
  }
  return out;
}

function interval(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_RETENTION_INTERVAL_MS;
  let seconds: number;
  try {
    seconds = parseDurationSeconds(raw);
  } catch (err) {
    throw new StartupError('BATON_RETENTION_INTERVAL', `must be a duration such as 1h or 10m: ${(err as Error).message}`);
  }
  if (!(seconds >= 10 && seconds <= 86_400)) throw new StartupError('BATON_RETENTION_INTERVAL', `must be from 10s to 1 day, got ${JSON.stringify(raw)}`);
  return seconds * 1000;
}

/**
 * BATON_TEST_RETENTION_CLOCK_OFFSET: a duration (up to 30d) the retention pass's clock runs ahead,
 * for tests that need partitions dropped within minutes. It purges signals before their retention
 * is over, so it is named as a test setting and the service logs a warning when it is set.
 */
function clockOffset(raw: string | undefined): number {
  if (raw === undefined) return 0;
  let seconds: number;
  try {
    seconds = parseDurationSeconds(raw);
  } catch (err) {
    throw new StartupError('BATON_TEST_RETENTION_CLOCK_OFFSET', `must be a duration such as 25h: ${(err as Error).message}`);
  }
  if (!(seconds >= 0 && seconds <= 30 * 86_400)) throw new StartupError('BATON_TEST_RETENTION_CLOCK_OFFSET', `must be from 0 to 30d, got ${JSON.stringify(raw)}`);
  return seconds * 1000;
}
