import { runtimeError } from '../errors.js';
import { MS_PER_DAY, dayOfWeek, daysFromCivil, daysInMonth, isoWeek, localFields, weekyearStart, weeksInWeekyear } from './civil.js';
import { DateTime, checkMillis, fieldError, offsetText } from './datetime.js';
import { DateTimeZone, zoneForId } from './zone.js';

/** One compiled Joda pattern element. */
interface Token {
  kind: string;
  len: number;
  /** Most digits a numeric field may consume when parsing (adjacent numeric fields are fixed). */
  maxDigits: number;
  text?: string;
  lenientTwoDigit?: boolean;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const LETTERS = 'GCYxwekEyDMdaKhHkmsSzZ';
const NUMERIC = new Set(['C', 'Y', 'x', 'w', 'e', 'y', 'D', 'd', 'K', 'h', 'H', 'k', 'm', 's', 'S']);
const MAX_DIGITS: Record<string, number> = { C: 7, e: 1, w: 2, D: 3, d: 2, K: 2, h: 2, H: 2, k: 2, m: 2, s: 2, M: 2 };
const cache = new Map<string, Token[]>();

function isNumeric(t: Token | undefined): boolean {
  if (!t || t.kind === 'literal') return false;
  return NUMERIC.has(t.kind) || (t.kind === 'M' && t.len < 3);
}

/** Compiles a Joda DateTimeFormat pattern (cached). */
export function compilePattern(pattern: string): Token[] {
  const hit = cache.get(pattern);
  if (hit) return hit;
  if (pattern.length > 200) throw runtimeError('DateTimeFormat pattern is longer than 200 characters');
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      let text = '';
      i++;
      while (i < pattern.length) {
        if (pattern[i] === "'") {
          if (pattern[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          break;
        }
        text += pattern[i++];
      }
      i++;
      tokens.push({ kind: 'literal', len: 0, maxDigits: 0, text: text === '' ? "'" : text });
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      if (!LETTERS.includes(c)) throw runtimeError(`Illegal pattern component: ${c}`);
      let len = 1;
      while (pattern[i + len] === c) len++;
      tokens.push({ kind: c, len, maxDigits: 0 });
      i += len;
    } else {
      const last = tokens[tokens.length - 1];
      if (last && last.kind === 'literal') last.text += c;
      else tokens.push({ kind: 'literal', len: 0, maxDigits: 0, text: c });
      i++;
    }
  }
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const nextNumeric = isNumeric(tokens[k + 1]);
    if (t.kind === 'y' || t.kind === 'Y' || t.kind === 'x') {
      if (t.len === 2) t.lenientTwoDigit = !nextNumeric;
      t.maxDigits = t.len === 2 ? 2 : nextNumeric ? t.len : 9;
    } else if (t.kind === 'S') t.maxDigits = t.len;
    else if (MAX_DIGITS[t.kind] !== undefined) t.maxDigits = Math.max(MAX_DIGITS[t.kind]!, t.len);
  }
  if (cache.size > 512) cache.clear();
  cache.set(pattern, tokens);
  return tokens;
}

/** '00' … '99': most printed fields are two digits wide. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

function num(n: number, width: number): string {
  if (width <= 2 && n >= 0 && n < 100) return width === 2 || n >= 10 ? TWO_DIGITS[n]! : String(n);
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

/** Prints an instant at a given offset/zone with a compiled pattern. */
export function printPattern(tokens: Token[], millis: number, zone: DateTimeZone): string {
  const offset = zone.offsetAt(millis);
  const local = millis + offset;
  const f = localFields(local);
  const ms = f.millisOfDay;
  const hour = Math.floor(ms / 3_600_000);
  let out = '';
  for (const t of tokens) {
    switch (t.kind) {
      case 'literal': out += t.text; break;
      case 'G': out += f.year > 0 ? 'AD' : 'BC'; break;
      case 'C': out += num(Math.floor((f.year > 0 ? f.year : 1 - f.year) / 100), t.len); break;
      case 'y': out += t.len === 2 ? num(((f.year % 100) + 100) % 100, 2) : num(f.year, t.len); break;
      case 'Y': { const yoe = f.year > 0 ? f.year : 1 - f.year; out += t.len === 2 ? num(yoe % 100, 2) : num(yoe, t.len); break; }
      case 'x': { const wy = isoWeek(f.days)[0]; out += t.len === 2 ? num(((wy % 100) + 100) % 100, 2) : num(wy, t.len); break; }
      case 'w': out += num(isoWeek(f.days)[1], t.len); break;
      case 'e': out += num(dayOfWeek(f.days), t.len); break;
      case 'E': { const n = WEEKDAYS[dayOfWeek(f.days) - 1]!; out += t.len >= 4 ? n : n.slice(0, 3); break; }
      case 'D': out += num(f.days - daysFromCivil(f.year, 1, 1) + 1, t.len); break;
      case 'M': out += t.len >= 4 ? MONTHS[f.month - 1] : t.len === 3 ? MONTHS[f.month - 1]!.slice(0, 3) : num(f.month, t.len); break;
      case 'd': out += num(f.day, t.len); break;
      case 'a': out += hour < 12 ? 'AM' : 'PM'; break;
      case 'K': out += num(hour % 12, t.len); break;
      case 'h': out += num(hour % 12 === 0 ? 12 : hour % 12, t.len); break;
      case 'H': out += num(hour, t.len); break;
      case 'k': out += num(hour === 0 ? 24 : hour, t.len); break;
      case 'm': out += num(Math.floor(ms / 60_000) % 60, t.len); break;
      case 's': out += num(Math.floor(ms / 1000) % 60, t.len); break;
      case 'S': {
        const frac = String(ms % 1000).padStart(3, '0');
        out += t.len <= 3 ? frac.slice(0, t.len) : frac + '0'.repeat(t.len - 3);
        break;
      }
      case 'z': out += t.len >= 4 ? zone.longName(millis) : zone.shortName(millis); break;
      case 'Z': out += t.len >= 3 ? zone.id : offsetText(offset, t.len === 2, false); break;
    }
  }
  return out;
}

/**
 * Fields read from the text. Every field is declared, so one object shape serves every pattern
 * (an object given keys as they come is a dictionary, slow to write and read).
 */
class Parsed {
  G: number | undefined = undefined;
  C: number | undefined = undefined;
  Y: number | undefined = undefined;
  x: number | undefined = undefined;
  w: number | undefined = undefined;
  e: number | undefined = undefined;
  y: number | undefined = undefined;
  D: number | undefined = undefined;
  M: number | undefined = undefined;
  d: number | undefined = undefined;
  a: number | undefined = undefined;
  K: number | undefined = undefined;
  h: number | undefined = undefined;
  H: number | undefined = undefined;
  k: number | undefined = undefined;
  m: number | undefined = undefined;
  s: number | undefined = undefined;
  S: number | undefined = undefined;
  offset: number | undefined = undefined;

  set(kind: string, value: number): void {
    switch (kind) {
      case 'G': this.G = value; break;
      case 'C': this.C = value; break;
      case 'Y': this.Y = value; break;
      case 'x': this.x = value; break;
      case 'w': this.w = value; break;
      case 'e': this.e = value; break;
      case 'y': this.y = value; break;
      case 'D': this.D = value; break;
      case 'M': this.M = value; break;
      case 'd': this.d = value; break;
      case 'a': this.a = value; break;
      case 'K': this.K = value; break;
      case 'h': this.h = value; break;
      case 'H': this.H = value; break;
      case 'k': this.k = value; break;
      case 'm': this.m = value; break;
      case 's': this.s = value; break;
      case 'S': this.S = value; break;
    }
  }
}

/** The current time for two-digit years: an instant, or a clock read only if a pattern needs it. */
export type Now = number | (() => number);

function parseFail(text: string, pos: number): never {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  if (pos >= text.length) throw runtimeError(`Invalid format: "${shown}" is too short`);
  throw runtimeError(`Invalid format: "${shown}" is malformed at "${text.slice(pos, pos + 40)}"`);
}

function matchText(text: string, pos: number, names: string[], full: boolean): [number, number] | undefined {
  for (let i = 0; i < names.length; i++) {
    const n = full ? names[i]! : names[i]!.slice(0, 3);
    if (text.substr(pos, n.length).toLowerCase() === n.toLowerCase()) return [i, pos + n.length];
  }
  return undefined;
}

const SHORT_ZONES: Record<string, number> = { UTC: 0, UT: 0, GMT: 0, EST: -5, EDT: -4, CST: -6, CDT: -5, MST: -7, MDT: -6, PST: -8, PDT: -7 };

/** Parses text with a compiled pattern into an instant and the zone the text named (if any). */
export function parsePattern(tokens: Token[], text: string, zone: DateTimeZone, now: Now): { millis: number; zone?: DateTimeZone } {
  const p = new Parsed();
  let pos = 0;
  let parsedZone: DateTimeZone | undefined;
  for (const t of tokens) {
    if (t.kind === 'literal') {
      if (!text.startsWith(t.text!, pos)) parseFail(text, pos);
      pos += t.text!.length;
      continue;
    }
    if (t.kind === 'M' && t.len >= 3) {
      const m = matchText(text, pos, MONTHS, true) ?? matchText(text, pos, MONTHS, false);
      if (!m) parseFail(text, pos);
      p.M = m[0] + 1;
      pos = m[1];
      continue;
    }
    if (t.kind === 'E') {
      const m = matchText(text, pos, WEEKDAYS, true) ?? matchText(text, pos, WEEKDAYS, false);
      if (!m) parseFail(text, pos);
      p.e = m[0] + 1;
      pos = m[1];
      continue;
    }
    if (t.kind === 'a' || t.kind === 'G') {
      const m = matchText(text, pos, t.kind === 'a' ? ['AM', 'PM'] : ['BC', 'AD'], true);
      if (!m) parseFail(text, pos);
      p.set(t.kind, m[0]);
      pos = m[1];
      continue;
    }
    if (t.kind === 'Z') {
      if (t.len >= 3) {
        const m = /^[A-Za-z_]+(\/[A-Za-z_+-]+)*|^[+-]\d\d:\d\d/.exec(text.slice(pos));
        if (!m) parseFail(text, pos);
        parsedZone = zoneForId(m[0]);
        pos += m[0].length;
        continue;
      }
      if (text[pos] === 'Z') {
        p.offset = 0;
        pos++;
        continue;
      }
      const m = /^([+-])(\d\d)(?::?(\d\d))?/.exec(text.slice(pos));
      if (!m) parseFail(text, pos);
      p.offset = (Number(m[2]) * 3_600_000 + Number(m[3] ?? 0) * 60_000) * (m[1] === '-' ? -1 : 1);
      pos += m[0].length;
      continue;
    }
    if (t.kind === 'z') {
      const m = /^[A-Z]{2,4}/.exec(text.slice(pos));
      const hours = m ? SHORT_ZONES[m[0]] : undefined;
      if (!m || hours === undefined) parseFail(text, pos);
      p.offset = hours * 3_600_000;
      pos += m[0].length;
      continue;
    }
    // Numeric field.
    const start = pos;
    let neg = false;
    if ((t.kind === 'y' || t.kind === 'x') && t.len !== 2 && (text[pos] === '-' || text[pos] === '+')) {
      neg = text[pos] === '-';
      pos++;
    }
    const lenient = t.lenientTwoDigit === true;
    const limit = lenient ? 9 : t.maxDigits;
    let digits = 0;
    let value = 0;
    while (digits < limit && pos < text.length) {
      const d = text.charCodeAt(pos) - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      digits++;
      pos++;
    }
    if (digits === 0) parseFail(text, start);
    if (t.kind === 'S') {
      p.S = Math.floor(value * Math.pow(10, 3 - digits));
      continue;
    }
    if ((t.kind === 'y' || t.kind === 'Y' || t.kind === 'x') && t.len === 2 && digits === 2 && !neg) {
      const low = pivotYear(now) - 50;
      let y = Math.floor(low / 100) * 100 + value;
      if (y < low) y += 100;
      value = y;
    }
    p.set(t.kind, neg ? -value : value);
  }
  if (pos < text.length) parseFail(text, pos);
  const local = computeLocal(p, text);
  let millis: number;
  if (p.offset !== undefined) millis = local - p.offset;
  else millis = (parsedZone ?? zone).localToUtc(local);
  return { millis: checkMillis(millis), zone: parsedZone };
}

function validate(text: string, field: string, value: number, min: number, max: number): number {
  if (value < min || value > max) {
    try {
      fieldError(field, value, min, max);
    } catch (e) {
      throw runtimeError(`Cannot parse "${text}": ${(e as Error).message}`);
    }
  }
  return value;
}

function computeLocal(p: Parsed, text: string): number {
  let year: number;
  const hasYear = p.y !== undefined || p.Y !== undefined || p.C !== undefined;
  if (p.y !== undefined) year = p.y;
  else if (p.Y !== undefined) year = p.G === 0 ? 1 - p.Y : p.Y;
  else if (p.C !== undefined) year = p.C * 100;
  else year = p.M !== undefined || p.d !== undefined ? 2000 : 1970;
  validate(text, 'year', year, -292_000, 292_000);
  let days: number;
  if (p.x !== undefined || p.w !== undefined) {
    const wy = p.x ?? (hasYear ? year : 1970);
    const week = validate(text, 'weekOfWeekyear', p.w ?? 1, 1, weeksInWeekyear(wy));
    const dow = validate(text, 'dayOfWeek', p.e ?? 1, 1, 7);
    days = weekyearStart(wy) + (week - 1) * 7 + dow - 1;
  } else if (p.D !== undefined) {
    const len = daysFromCivil(year + 1, 1, 1) - daysFromCivil(year, 1, 1);
    days = daysFromCivil(year, 1, 1) + validate(text, 'dayOfYear', p.D, 1, len) - 1;
  } else {
    const month = validate(text, 'monthOfYear', p.M ?? 1, 1, 12);
    const day = validate(text, 'dayOfMonth', p.d ?? 1, 1, daysInMonth(year, month));
    days = daysFromCivil(year, month, day);
    if (p.e !== undefined) days += validate(text, 'dayOfWeek', p.e, 1, 7) - dayOfWeek(days);
  }
  let hour = 0;
  if (p.H !== undefined) hour = validate(text, 'hourOfDay', p.H, 0, 23);
  else if (p.k !== undefined) hour = validate(text, 'clockhourOfDay', p.k, 1, 24) % 24;
  else if (p.K !== undefined || p.h !== undefined) {
    const h12 = p.K !== undefined ? validate(text, 'hourOfHalfday', p.K, 0, 11) : validate(text, 'clockhourOfHalfday', p.h!, 1, 12) % 12;
    hour = h12 + (p.a === 1 ? 12 : 0);
  } else if (p.a === 1) hour = 12;
  const minute = validate(text, 'minuteOfHour', p.m ?? 0, 0, 59);
  const second = validate(text, 'secondOfMinute', p.s ?? 0, 0, 59);
  return days * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + (p.S ?? 0);
}

/** Joda's DateTimeFormatter: a compiled pattern plus an optional zone. */
export class DateTimeFormatter {
  readonly selType = 'DATETIME_FORMATTER';
  private readonly tokens: Token[];

  constructor(
    readonly pattern: string,
    readonly zone: DateTimeZone | undefined,
  ) {
    this.tokens = compilePattern(pattern);
  }

  withZone(zone: DateTimeZone): DateTimeFormatter {
    return zone === this.zone ? this : new DateTimeFormatter(this.pattern, zone);
  }

  print(millis: number, zone?: DateTimeZone): string {
    return printPattern(this.tokens, millis, this.zone ?? zone ?? DateTimeZone.UTC);
  }

  parseDateTime(text: string, now: Now): DateTime {
    const r = parsePattern(this.tokens, text, this.zone ?? DateTimeZone.UTC, now);
    return new DateTime(r.millis, this.zone ?? r.zone ?? DateTimeZone.UTC);
  }

  parseMillis(text: string, now: Now): number {
    return parsePattern(this.tokens, text, this.zone ?? DateTimeZone.UTC, now).millis;
  }

  toString(): string {
    return `DateTimeFormatter[${this.pattern}]`;
  }
}

/** Joda pivots two-digit years around (current year - 30). */
function pivotYear(now: Now): number {
  return localFields(typeof now === 'number' ? now : now()).year - 30;
}

const formatters = new Map<string, DateTimeFormatter>();

export function formatterFor(pattern: string): DateTimeFormatter {
  let f = formatters.get(pattern);
  if (!f) {
    f = new DateTimeFormatter(pattern, undefined);
    if (formatters.size > 512) formatters.clear();
    formatters.set(pattern, f);
  }
  return f;
}
