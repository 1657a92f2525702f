import { runtimeError } from '../errors.js';
import {
  MS_PER_DAY, civilFromDays, dayOfWeek, daysFromCivil, daysInMonth, isoWeek, localFields, weekyearStart, weeksInWeekyear,
} from './civil.js';
import { DateTimeZone } from './zone.js';

const MAX_MILLIS = 8.64e15 * 10;

export function fieldError(field: string, value: number, min: number, max: number): never {
  throw runtimeError(`Value ${value} for ${field} must be in the range [${min},${max}] (IllegalFieldValueException)`);
}

function check(field: string, value: number, min: number, max: number): void {
  if (value < min || value > max || !Number.isInteger(value)) fieldError(field, value, min, max);
}

export function checkMillis(millis: number): number {
  if (!Number.isSafeInteger(millis) || Math.abs(millis) > MAX_MILLIS) {
    throw runtimeError(`instant ${millis} is outside the supported DateTime range`);
  }
  return millis;
}

/** An immutable Joda DateTime: an instant plus the zone its fields are read in. */
export class DateTime {
  readonly selType = 'DATETIME';
  private localCache: number | undefined;

  constructor(
    readonly millis: number,
    readonly zone: DateTimeZone,
  ) {
    checkMillis(millis);
  }

  get offset(): number {
    return this.local - this.millis;
  }

  /** Wall-clock milliseconds in this zone. */
  get local(): number {
    if (this.localCache === undefined) this.localCache = this.millis + this.zone.offsetAt(this.millis);
    return this.localCache;
  }

  /** A DateTime in this zone at another local time, keeping the offset where still valid. */
  withLocal(local: number, keepOffset = true): DateTime {
    const utc = this.zone.localToUtc(local, keepOffset ? this.offset : undefined);
    return new DateTime(utc, this.zone);
  }

  withMillis(millis: number): DateTime {
    return millis === this.millis ? this : new DateTime(millis, this.zone);
  }

  plusMonths(months: number): DateTime {
    if (months === 0) return this;
    const f = localFields(this.local);
    const total = f.year * 12 + (f.month - 1) + months;
    const y = Math.floor(total / 12);
    const m = total - y * 12 + 1;
    const d = Math.min(f.day, daysInMonth(y, m));
    return this.withLocal(daysFromCivil(y, m, d) * MS_PER_DAY + f.millisOfDay, false);
  }

  plusDays(days: number): DateTime {
    if (days === 0) return this;
    return this.withLocal(this.local + days * MS_PER_DAY, false);
  }

  get(field: FieldName): number {
    const local = this.local;
    const f = localFields(local);
    switch (field) {
      case 'year': return f.year;
      case 'monthOfYear': return f.month;
      case 'dayOfMonth': return f.day;
      case 'dayOfWeek': return dayOfWeek(f.days);
      case 'dayOfYear': return f.days - daysFromCivil(f.year, 1, 1) + 1;
      case 'weekyear': return isoWeek(f.days)[0];
      case 'weekOfWeekyear': return isoWeek(f.days)[1];
      case 'hourOfDay': return Math.floor(f.millisOfDay / 3_600_000);
      case 'minuteOfDay': return Math.floor(f.millisOfDay / 60_000);
      case 'minuteOfHour': return Math.floor(f.millisOfDay / 60_000) % 60;
      case 'secondOfDay': return Math.floor(f.millisOfDay / 1000);
      case 'secondOfMinute': return Math.floor(f.millisOfDay / 1000) % 60;
      case 'millisOfDay': return f.millisOfDay;
      case 'millisOfSecond': return f.millisOfDay % 1000;
    }
  }

  /** Sets one field in local time (Joda's DateTime.withXxx / Property.setCopy). */
  with(field: FieldName, value: number): DateTime {
    const f = localFields(this.local);
    const [min, max] = fieldRange(this, field);
    check(field, value, min, max);
    let days = f.days;
    let ms = f.millisOfDay;
    switch (field) {
      case 'year': days = daysFromCivil(value, f.month, Math.min(f.day, daysInMonth(value, f.month))); break;
      case 'monthOfYear': days = daysFromCivil(f.year, value, Math.min(f.day, daysInMonth(f.year, value))); break;
      case 'dayOfMonth': days = daysFromCivil(f.year, f.month, value); break;
      case 'dayOfWeek': days = f.days + (value - dayOfWeek(f.days)); break;
      case 'dayOfYear': days = daysFromCivil(f.year, 1, 1) + value - 1; break;
      case 'weekOfWeekyear': days = f.days + (value - isoWeek(f.days)[1]) * 7; break;
      case 'weekyear': {
        const [, week] = isoWeek(f.days);
        const w = Math.min(week, weeksInWeekyear(value));
        days = weekyearStart(value) + (w - 1) * 7 + dayOfWeek(f.days) - 1;
        break;
      }
      case 'hourOfDay': ms = value * 3_600_000 + (ms % 3_600_000); break;
      case 'minuteOfDay': ms = value * 60_000 + (ms % 60_000); break;
      case 'minuteOfHour': ms = Math.floor(ms / 3_600_000) * 3_600_000 + value * 60_000 + (ms % 60_000); break;
      case 'secondOfDay': ms = value * 1000 + (ms % 1000); break;
      case 'secondOfMinute': ms = Math.floor(ms / 60_000) * 60_000 + value * 1000 + (ms % 1000); break;
      case 'millisOfDay': ms = value; break;
      case 'millisOfSecond': ms = Math.floor(ms / 1000) * 1000 + value; break;
    }
    const result = this.withLocal(days * MS_PER_DAY + ms);
    if (result.get(field) !== value) {
      throw runtimeError(`Illegal instant due to time zone offset transition: ${field} ${value} in ${this.zone.id}`);
    }
    return result;
  }

  /** Joda's ISO form: 2024-03-15T00:00:00.000Z / ...-08:00. */
  toString(): string {
    return isoString(this.local, this.offset);
  }
}

export type FieldName =
  | 'year' | 'monthOfYear' | 'dayOfMonth' | 'dayOfWeek' | 'dayOfYear' | 'weekyear' | 'weekOfWeekyear'
  | 'hourOfDay' | 'minuteOfDay' | 'minuteOfHour' | 'secondOfDay' | 'secondOfMinute' | 'millisOfDay' | 'millisOfSecond';

const YEAR_LIMIT = 292_000;

/** [min, max] of a field for this DateTime (maximums that depend on the date use it). */
export function fieldRange(dt: DateTime, field: FieldName): [number, number] {
  switch (field) {
    case 'year': return [-YEAR_LIMIT, YEAR_LIMIT];
    case 'weekyear': return [-YEAR_LIMIT, YEAR_LIMIT];
    case 'monthOfYear': return [1, 12];
    case 'dayOfMonth': { const f = localFields(dt.local); return [1, daysInMonth(f.year, f.month)]; }
    case 'dayOfWeek': return [1, 7];
    case 'dayOfYear': { const f = localFields(dt.local); return [1, daysFromCivil(f.year + 1, 1, 1) - daysFromCivil(f.year, 1, 1)]; }
    case 'weekOfWeekyear': return [1, weeksInWeekyear(isoWeek(localFields(dt.local).days)[0])];
    case 'hourOfDay': return [0, 23];
    case 'minuteOfDay': return [0, 1439];
    case 'minuteOfHour': return [0, 59];
    case 'secondOfDay': return [0, 86399];
    case 'secondOfMinute': return [0, 59];
    case 'millisOfDay': return [0, 86_399_999];
    case 'millisOfSecond': return [0, 999];
  }
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

export function offsetText(offset: number, colon: boolean, zeroAsZ: boolean): string {
  if (offset === 0 && zeroAsZ) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const ms = abs % 1000;
  const sep = colon ? ':' : '';
  let out = `${sign}${pad(h, 2)}${sep}${pad(m, 2)}`;
  if (s || ms) out += `${sep}${pad(s, 2)}`;
  if (ms) out += `.${pad(ms, 3)}`;
  return out;
}

export function isoString(local: number, offset: number): string {
  const f = localFields(local);
  const ms = f.millisOfDay;
  const y = f.year;
  const year = y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0');
  return `${year}-${pad(f.month, 2)}-${pad(f.day, 2)}T${pad(Math.floor(ms / 3_600_000), 2)}:${pad(Math.floor(ms / 60_000) % 60, 2)}:${pad(Math.floor(ms / 1000) % 60, 2)}.${pad(ms % 1000, 3)}${offsetText(offset, true, true)}`;
}

/** Local millis of a calendar date-time, validating each field as Joda does. */
export function localOf(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  check('year', y, -YEAR_LIMIT, YEAR_LIMIT);
  check('monthOfYear', mo, 1, 12);
  check('dayOfMonth', d, 1, daysInMonth(y, mo));
  check('hourOfDay', h, 0, 23);
  check('minuteOfHour', mi, 0, 59);
  check('secondOfMinute', s, 0, 59);
  check('millisOfSecond', ms, 0, 999);
  return daysFromCivil(y, mo, d) * MS_PER_DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + ms;
}

/** Days.daysBetween: whole days between the local dates-times, in the first instant's zone. */
export class Days {
  readonly selType = 'DATETIME_DAYS';
  constructor(readonly days: number) {}
  toString(): string {
    return `P${this.days}D`;
  }
}

export function daysBetween(a: DateTime, b: DateTime): Days {
  const la = a.local;
  const lb = new DateTime(b.millis, a.zone).local;
  // Joda counts whole days by stepping the start forward while it does not pass the end.
  let days = Math.trunc((lb - la) / MS_PER_DAY);
  if (days > 0 && a.plusDays(days).millis > b.millis) days--;
  else if (days < 0 && a.plusDays(days).millis < b.millis) days++;
  return new Days(days);
}

export { civilFromDays };
