import { IANAZone } from 'luxon';
import { runtimeError } from '../errors.js';

const HOUR = 3_600_000;
const BUCKET = 900_000;

/**
 * A Joda DateTimeZone: `UTC`, a fixed offset (`+05:30`) or a tz database id. Offsets of tz zones
 * come from luxon (Intl) and are cached per 15-minute bucket, because every modern transition
 * falls on one and Intl lookups cost microseconds.
 */
export class DateTimeZone {
  readonly selType = 'DATETIME_ZONE';
  private readonly cache = new Map<number, number>();
  private readonly iana: IANAZone | undefined;

  private constructor(
    readonly id: string,
    readonly fixedOffset: number | undefined,
  ) {
    this.iana = fixedOffset === undefined ? IANAZone.create(id) : undefined;
  }

  static readonly UTC = new DateTimeZone('UTC', 0);

  static fixed(offsetMillis: number): DateTimeZone {
    if (offsetMillis === 0) return DateTimeZone.UTC;
    return new DateTimeZone(formatOffsetId(offsetMillis), offsetMillis);
  }

  static tz(id: string): DateTimeZone {
    return new DateTimeZone(id, undefined);
  }

  /** Offset in milliseconds at a UTC instant. */
  offsetAt(utc: number): number {
    if (this.fixedOffset !== undefined) return this.fixedOffset;
    const bucket = Math.floor(utc / BUCKET);
    let off = this.cache.get(bucket);
    if (off === undefined) {
      off = Math.round(this.iana!.offset(utc) * 60_000);
      if (this.cache.size > 20_000) this.cache.clear();
      this.cache.set(bucket, off);
    }
    return off;
  }

  /**
   * UTC instant of a local time, Joda style: keep `preferred` when it is valid (overlaps keep the
   * original offset), else the earlier instant in an overlap, and in a gap shift forward.
   */
  localToUtc(local: number, preferred?: number): number {
    if (this.fixedOffset !== undefined) return local - this.fixedOffset;
    if (preferred !== undefined && this.offsetAt(local - preferred) === preferred) return local - preferred;
    const before = this.offsetAt(local - 14 * HOUR - 86_400_000);
    const after = this.offsetAt(local + 14 * HOUR + 86_400_000);
    const okBefore = this.offsetAt(local - before) === before;
    const okAfter = this.offsetAt(local - after) === after;
    if (okBefore && okAfter) return local - Math.max(before, after);
    if (okBefore) return local - before;
    if (okAfter) return local - after;
    const guess = this.offsetAt(local);
    if (this.offsetAt(local - guess) === guess) return local - guess;
    return local - Math.min(before, after);
  }

  /** The short display name Joda prints for `z` (e.g. PST, UTC, +05:30). */
  shortName(utc: number): string {
    if (this.fixedOffset !== undefined) return this.id;
    return this.iana!.offsetName(utc, { format: 'short', locale: 'en-US' }) ?? this.id;
  }

  longName(utc: number): string {
    if (this.fixedOffset !== undefined) return this.id;
    return this.iana!.offsetName(utc, { format: 'long', locale: 'en-US' }) ?? this.id;
  }

  toString(): string {
    return this.id;
  }
}

export function formatOffsetId(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  let rest = Math.abs(offset);
  const h = Math.floor(rest / HOUR);
  rest -= h * HOUR;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const ms = rest - s * 1000;
  let out = `${sign}${pad2(h)}:${pad2(m)}`;
  if (s || ms) out += `:${pad2(s)}`;
  if (ms) out += `.${String(ms).padStart(3, '0')}`;
  return out;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Legacy ids Joda resolves to their canonical zone. */
const ALIASES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  'Etc/UTC': 'UTC', 'Etc/UCT': 'UTC', 'Etc/Universal': 'UTC', 'Etc/Zulu': 'UTC', UCT: 'UTC', Universal: 'UTC', Zulu: 'UTC',
  'US/Pacific': 'America/Los_Angeles', 'US/Eastern': 'America/New_York', 'US/Central': 'America/Chicago',
  'US/Mountain': 'America/Denver', 'US/Arizona': 'America/Phoenix', 'US/Hawaii': 'Pacific/Honolulu',
  'US/Alaska': 'America/Anchorage', 'US/East-Indiana': 'America/Indiana/Indianapolis', 'US/Michigan': 'America/Detroit',
  'Asia/Calcutta': 'Asia/Kolkata', 'Asia/Saigon': 'Asia/Ho_Chi_Minh', 'Asia/Katmandu': 'Asia/Kathmandu',
  'Europe/Kiev': 'Europe/Kyiv', 'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
});

const zones = new Map<string, DateTimeZone>([['UTC', DateTimeZone.UTC]]);
const ID_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;
const OFFSET_RE = /^([+-])(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/** DateTimeZone.forID: exact-case tz ids, legacy aliases, `UTC`, `±hh[:mm[:ss[.SSS]]]`. */
export function zoneForId(id: string): DateTimeZone {
  const hit = zones.get(id);
  if (hit) return hit;
  const zone = resolveZone(id);
  if (zones.size > 1000) zones.clear();
  zones.set(id, zone);
  return zone;
}

function notRecognised(id: string): never {
  const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id;
  throw runtimeError(`The datetime zone id '${shown}' is not recognised`);
}

function resolveZone(id: string): DateTimeZone {
  const off = OFFSET_RE.exec(id);
  if (off) {
    const h = Number(off[2]);
    const m = Number(off[3] ?? 0);
    const s = Number(off[4] ?? 0);
    const ms = Number((off[5] ?? '0').padEnd(3, '0'));
    if (h > 23 || m > 59 || s > 59) notRecognised(id);
    const total = (h * HOUR + m * 60_000 + s * 1000 + ms) * (off[1] === '-' ? -1 : 1);
    return DateTimeZone.fixed(total);
  }
  if (id.length > 64 || !ID_SHAPE.test(id)) notRecognised(id);
  const canonical = ALIASES[id] ?? id;
  if (canonical === 'UTC') return DateTimeZone.UTC;
  if (!IANAZone.isValidZone(canonical)) notRecognised(id);
  return DateTimeZone.tz(canonical);
}
