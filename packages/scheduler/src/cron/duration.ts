import { Duration } from 'luxon';
import { TriggerError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a delay: a number of seconds, a string like "30s", "5m", "1h", "1h30m", "250ms", a
 * plain number string, or an ISO-8601 duration ("PT5M"). Returns milliseconds.
 */
export function parseDurationMs(value: unknown, property = 'fuzzy_max_delay'): number {
  const fail = (why: string): never => {
    throw new TriggerError(`${property} ${JSON.stringify(value)} ${why}`, property);
  };
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) fail('must be a non-negative number of seconds');
    return Math.round(value * 1000);
  }
  if (typeof value !== 'string') return fail('must be a number of seconds or a duration string such as "30s", "5m" or "PT1H"');
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^P/i.test(text)) {
    const d = Duration.fromISO(text.toUpperCase());
    if (!d.isValid) fail('is not a valid ISO-8601 duration');
    // Months and years have no fixed length; a jitter bound needs one.
    if (d.years || d.months || d.quarters) fail('may not use years or months');
    return d.as('milliseconds');
  }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d)/gi)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('').replace(/\s/g, '') !== text.replace(/\s/g, '')) {
    fail('is not a duration; write e.g. "30s", "5m", "1h", "1h30m", "PT5M" or a number of seconds');
  }
  let ms = 0;
  for (const p of parts) ms += Number(p[1]) * UNIT_MS[p[2]!.toLowerCase()]!;
  return Math.round(ms);
}
