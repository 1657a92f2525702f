import type { DurationSpec, IntSpec } from './model.js';

const UNIT_SECONDS: Record<string, number> = {
  d: 86400, day: 86400, days: 86400,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  ms: 0.001, millisecond: 0.001, milliseconds: 0.001,
};

/** Largest duration accepted: 100 years, far beyond any sensible timeout but safe arithmetic. */
const MAX_SECONDS = 100 * 365 * 86400;

const ISO = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/**
 * Seconds in a duration text: a bare number (`"3600"`), unit terms (`"1h 30m"`, `"10s"`,
 * `"20 minutes"`, `"1d2h"`), or ISO-8601 (`"PT1H30M"`). Throws with a message on anything else.
 */
export function parseDurationSeconds(text: string): number {
  const s = text.trim();
  if (s === '') throw new Error('empty duration');
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(s)) seconds = Number(s);
  else if (ISO.test(s)) {
    const m = ISO.exec(s) as RegExpExecArray;
    if (s.toUpperCase() === 'P' || s.toUpperCase().endsWith('T')) throw new Error(`bad ISO-8601 duration '${text}'`);
    seconds = Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  } else {
    const term = /\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*,?/y;
    seconds = 0;
    let at = 0;
    while (at < s.length) {
      term.lastIndex = at;
      const m = term.exec(s);
      if (!m) throw new Error(`bad duration '${text}': expected terms like '1h 30m', '10s' or '20 minutes'`);
      const unit = UNIT_SECONDS[(m[2] as string).toLowerCase()];
      if (unit === undefined) throw new Error(`bad duration '${text}': unknown unit '${m[2]}' (use d, h, m or s)`);
      seconds += Number(m[1]) * unit;
      at = term.lastIndex;
    }
  }
  if (!Number.isFinite(seconds) || seconds > MAX_SECONDS) throw new Error(`duration '${text}' is too long`);
  return seconds;
}

/** True when the text holds a `$name` / `${...}` reference to resolve at run time. */
export function hasTemplate(text: string): boolean {
  return /\$(\{|[A-Za-z_])/.test(text.replace(/\$\$/g, ''));
}

/** A timeout as written (seconds number or text) → DurationSpec; throws with a message. */
export function toDurationSpec(raw: unknown): DurationSpec {
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`must be a non-negative number of seconds, got ${String(raw)}`);
    if (n > MAX_SECONDS) throw new Error(`duration of ${String(raw)} seconds is too long`);
    return { seconds: n };
  }
  if (typeof raw === 'string') {
    if (hasTemplate(raw)) return { template: raw };
    return { seconds: parseDurationSeconds(raw) };
  }
  throw new Error('must be a number of seconds or a duration text like "1h 30m"');
}

/** A whole number as written (number, numeric text or `${param}` template) → IntSpec. */
export function toIntSpec(raw: unknown): IntSpec {
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) throw new Error(`must be a whole number, got ${String(raw)}`);
    return n;
  }
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (/^-?\d+$/.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
    if (hasTemplate(raw)) return { template: raw };
    throw new Error(`must be a whole number or a \${param} reference, got "${raw}"`);
  }
  throw new Error('must be a whole number');
}

export function durationSpecToJson(d: DurationSpec): number | string {
  return 'seconds' in d ? d.seconds : d.template;
}

export function intSpecToJson(i: IntSpec): number | string {
  return typeof i === 'number' ? i : i.template;
}

/**
 * A `*_in_secs` retry backoff field as written: a whole number of seconds, a `${param}` template,
 * or (as Maestro's DurationParser reads them) a duration text such as `"1 min 40 s"`, `"5mins"`
 * or `"2hours"`, kept as written and read as whole seconds when the retry is planned.
 */
export function toSecondsSpec(raw: unknown): IntSpec {
  if (typeof raw === 'string' && !/^\s*-?\d+\s*$/.test(raw) && !hasTemplate(raw)) {
    parseDurationSeconds(raw);
    return { template: raw };
  }
  return toIntSpec(raw);
}

/** Whole seconds in a resolved `*_in_secs` text: a number, or a duration text. */
export function secondsOf(text: string): number {
  const t = text.trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : Math.floor(parseDurationSeconds(t));
}
