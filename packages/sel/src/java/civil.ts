/** Proleptic Gregorian calendar arithmetic (Joda's ISOChronology) on day numbers since 1970-01-01. */
export const MS_PER_DAY = 86_400_000;

export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month (1-12), day] of a day number. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

export function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : MONTH_LENGTHS[m - 1]!;
}

/** ISO day of week, Monday = 1 … Sunday = 7. */
export function dayOfWeek(days: number): number {
  return ((((days + 3) % 7) + 7) % 7) + 1;
}

/** [weekyear, weekOfWeekyear] (ISO-8601 weeks, as Joda). */
export function isoWeek(days: number): [number, number] {
  const thursday = days - dayOfWeek(days) + 4;
  const wy = civilFromDays(thursday)[0];
  return [wy, Math.floor((thursday - daysFromCivil(wy, 1, 1)) / 7) + 1];
}

/** Day number of Monday of ISO week 1 of a weekyear. */
export function weekyearStart(wy: number): number {
  const jan4 = daysFromCivil(wy, 1, 4);
  return jan4 - dayOfWeek(jan4) + 1;
}

export function weeksInWeekyear(wy: number): number {
  return (weekyearStart(wy + 1) - weekyearStart(wy)) / 7;
}

/** Local fields of a local-millis value. */
export interface LocalFields {
  days: number;
  year: number;
  month: number;
  day: number;
  millisOfDay: number;
}

export function localFields(local: number): LocalFields {
  const days = Math.floor(local / MS_PER_DAY);
  const [year, month, day] = civilFromDays(days);
  return { days, year, month, day, millisOfDay: local - days * MS_PER_DAY };
}
