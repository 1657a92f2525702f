import type { CronSpec } from './spec.js';

/** Calendar arithmetic on proleptic Gregorian dates, independent of any time zone. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 0 = Sunday. */
export function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday (Mon-Fri) nearest to `day`, staying inside the month (Quartz `W`). */
function nearestWeekdayOf(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  const d = Math.min(day, last);
  const wd = weekday(year, month, d);
  if (wd === 6) return d === 1 ? d + 2 : d - 1;
  if (wd === 0) return d === last ? d - 2 : d + 1;
  return d;
}

function lastWeekdayOf(year: number, month: number): number {
  const last = daysInMonth(year, month);
  const wd = weekday(year, month, last);
  return wd === 6 ? last - 1 : wd === 0 ? last - 2 : last;
}

function domMatches(spec: CronSpec, year: number, month: number, day: number): boolean {
  const rule = spec.dom;
  if (rule.days.has(day)) return true;
  const last = daysInMonth(year, month);
  if (rule.fromLast.some((n) => last - n === day)) return true;
  if (rule.lastWeekday && lastWeekdayOf(year, month) === day) return true;
  return rule.nearestWeekday.some((n) => nearestWeekdayOf(year, month, n) === day);
}

function dowMatches(spec: CronSpec, year: number, month: number, day: number): boolean {
  const rule = spec.dow;
  const wd = weekday(year, month, day);
  if (rule.days.has(wd)) return true;
  if (rule.nth.some((x) => x.dow === wd && Math.ceil(day / 7) === x.n)) return true;
  return rule.last.some((x) => x === wd && day + 7 > daysInMonth(year, month));
}

/**
 * Whether the schedule fires on this local date. Day-of-month and day-of-week combine as in
 * Vixie cron: when neither field starts with `*` (nor is `?`), a day matching either fires;
 * otherwise a day must match both.
 */
export function dayMatches(spec: CronSpec, year: number, month: number, day: number): boolean {
  if (!spec.months.has(month)) return false;
  if (spec.years && !spec.years.has(year)) return false;
  if (day > daysInMonth(year, month)) return false;
  // A `*` or `?` field expands to every day, so AND leaves the other field in charge, while
  // `*\/2` (which Vixie cron also counts as a star) still restricts.
  if (spec.domUnrestricted || spec.dowUnrestricted) return domMatches(spec, year, month, day) && dowMatches(spec, year, month, day);
  return domMatches(spec, year, month, day) || dowMatches(spec, year, month, day);
}

/** A local calendar date; month 1-12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export function addDays(d: LocalDate, n: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/**
 * True when some date in a full 400-year Gregorian cycle matches (ignoring the year field), so
 * expressions such as `0 0 30 2 *` (February 30) are rejected instead of searched for forever.
 */
export function matchesSomeDate(spec: CronSpec): boolean {
  const probe: CronSpec = { ...spec, years: null };
  for (let year = 2000; year < 2400; year++) {
    for (const month of probe.months) {
      const last = daysInMonth(year, month);
      for (let day = 1; day <= last; day++) if (dayMatches(probe, year, month, day)) return true;
    }
  }
  return false;
}
