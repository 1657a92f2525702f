import type { HostContext } from '../host-context.js';
import { runtimeError } from '../errors.js';
import { MS_PER_DAY, civilFromDays, daysInMonth } from './civil.js';
import { DateTime, daysBetween } from './datetime.js';
import { formatterFor } from './joda-format.js';
import { javaParseLong } from './numbers.js';
import { TypedList, argError, argOf, argString, methodTable, toInt32, type MethodTable } from './types.js';
import { DateTimeZone, zoneForId } from './zone.js';

// Maestro's Util parses date ints with Joda "YYYYMMdd" in UTC.
const dateInt = formatterFor('YYYYMMdd').withZone(DateTimeZone.UTC);

/** SelString.create: a STRING as is, a LONG as its decimal text. */
function text(method: string, args: unknown[], i: number): string {
  const v = args[i];
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  throw argError(method, i, 'STRING or LONG', v);
}

/** SelLong.create: a LONG as is, a STRING through Long.parseLong. */
function long(method: string, args: unknown[], i: number): bigint {
  const v = args[i];
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string') return javaParseLong(v);
  throw argError(method, i, 'LONG or STRING', v);
}

function strictLong(method: string, args: unknown[], i: number): bigint {
  const v = args[i];
  if (typeof v !== 'bigint') throw argError(method, i, 'LONG', v);
  return v;
}

/** Integer.parseInt(x.toString()). */
function parseIntArg(method: string, args: unknown[], i: number): number {
  const s = text(method, args, i);
  const v = javaParseLong(s);
  if (v > 2147483647n || v < -2147483648n) throw runtimeError(`NumberFormatException: For input string: "${s}"`);
  return Number(v);
}

const UNITS: [RegExp, number][] = [
  [/^years?$/, NaN], [/^months?$/, NaN], [/^weeks?$/, 7 * 86_400_000], [/^days?$/, 86_400_000],
  [/^hours?$/, 3_600_000], [/^minutes?$/, 60_000], [/^seconds?$/, 1000], [/^milliseconds?$/, 1],
];

/** Joda's PeriodFormat.wordBased() English parse + toStandardDuration, in milliseconds. */
export function wordPeriodMillis(s: string): number {
  const parts = s.split(/, | and /);
  let total = 0;
  let next = 0;
  for (const part of parts) {
    const m = /^(-?\d{1,10}) ([a-z]+)$/.exec(part);
    if (!m) throw runtimeError(`Invalid format: "${s}"`);
    let k = next;
    while (k < UNITS.length && !UNITS[k]![0].test(m[2]!)) k++;
    if (k >= UNITS.length) throw runtimeError(`Invalid format: "${s}" is malformed at "${part}"`);
    const unit = UNITS[k]![1];
    if (Number.isNaN(unit)) throw runtimeError(`Cannot convert to Duration as this period contains ${m[2]} and they vary in length`);
    total += Number(m[1]) * unit;
    next = k + 1;
  }
  return total;
}

function timeout(ctx: HostContext, start: DateTime, duration: string): string {
  const deadline = start.millis + wordPeriodMillis(duration);
  return `${Math.max(deadline - Math.trunc(ctx.nowMillis()), 0)} milliseconds`;
}

function dateIntsBetween(ctx: HostContext, args: unknown[]): TypedList {
  const inc = parseIntArg('Util.dateIntsBetween', args, 2);
  if (inc === 0) throw runtimeError('Util.dateIntsBetween: invalid incremental interval value: 0');
  const [a, b] = inc > 0 ? [0, 1] : [1, 0];
  const d1 = dateInt.parseDateTime(text('Util.dateIntsBetween', args, a), 0);
  const d2 = dateInt.parseDateTime(text('Util.dateIntsBetween', args, b), 0);
  const days = daysBetween(d1, d2).days;
  const step = Math.abs(inc);
  const count = days > 0 ? Math.ceil(days / step) : 0;
  ctx.checkArrayLength(count);
  ctx.chargeMemory(count);
  const out: bigint[] = new Array<bigint>(count);
  // Both ends are UTC midnights, so stepping is plain day arithmetic on the civil calendar,
  // carried from one date to the next instead of converting every day number.
  let [y, m, d] = civilFromDays(Math.floor(d1.millis / MS_PER_DAY));
  let monthLength = daysInMonth(y, m);
  for (let k = 0; k < count; k++) {
    out[k] = BigInt(y * 10000 + m * 100 + d);
    d += step;
    while (d > monthLength) {
      d -= monthLength;
      if (++m > 12) {
        m = 1;
        y++;
      }
      monthLength = daysInMonth(y, m);
    }
  }
  if (inc < 0) out.reverse();
  return new TypedList('LONG', out);
}

function intsBetween(ctx: HostContext, args: unknown[]): TypedList {
  const d1 = toInt32(long('Util.intsBetween', args, 0));
  const d2 = toInt32(long('Util.intsBetween', args, 1));
  const inc = toInt32(long('Util.intsBetween', args, 2));
  let count: number;
  if (inc > 0) count = d1 < d2 ? Math.ceil((d2 - d1) / inc) : 0;
  else if (inc < 0) count = d1 > d2 ? Math.ceil((d1 - d2) / -inc) : 0;
  else count = d1 > d2 ? Number.MAX_SAFE_INTEGER : 0;
  ctx.checkArrayLength(count);
  ctx.chargeMemory(count);
  const out: bigint[] = new Array<bigint>(count);
  for (let k = 0; k < count; k++) out[k] = BigInt(d1 + k * inc);
  return new TypedList('LONG', out);
}

/** Maestro's predefined Util functions (host-registered ones such as toJson are the core's). */
export const utilMethods: MethodTable = methodTable({
  dateIntToTs: { 1: (_c, _s, args) => BigInt(dateInt.parseMillis(text('Util.dateIntToTs', args, 0), 0)) },
  tsToDateInt: { 1: (_c, _s, args) => dateInt.print(Number(long('Util.tsToDateInt', args, 0))) },
  incrementDateInt: {
    2: (_c, _s, args) => {
      const d = dateInt.parseDateTime(text('Util.incrementDateInt', args, 0), 0);
      return dateInt.print(d.plusDays(toInt32(strictLong('Util.incrementDateInt', args, 1))).millis);
    },
  },
  dateIntHourToTs: {
    5: (ctx, _s, args) => {
      const zone = zoneForId(text('Util.dateIntHourToTs', args, 2));
      const f = formatterFor('YYYYMMddHH').withZone(zone);
      const d = f.parseDateTime(text('Util.dateIntHourToTs', args, 0) + text('Util.dateIntHourToTs', args, 1), () => ctx.nowMillis());
      const days = toInt32(long('Util.dateIntHourToTs', args, 3));
      const hours = toInt32(long('Util.dateIntHourToTs', args, 4));
      const shifted = d.plusDays(-days);
      return BigInt(shifted.millis - hours * 3_600_000);
    },
  },
  timeoutForDateTimeDeadline: {
    2: (ctx, _s, args) => timeout(ctx, argOf('Util.timeoutForDateTimeDeadline', args, 0, DateTime, 'DateTime'), argString('Util.timeoutForDateTimeDeadline', args, 1)),
  },
  timeoutForDateIntDeadline: {
    2: (ctx, _s, args) => timeout(ctx, dateInt.parseDateTime(text('Util.timeoutForDateIntDeadline', args, 0), 0), argString('Util.timeoutForDateIntDeadline', args, 1)),
  },
  dateIntsBetween: { 3: (ctx, _s, args) => dateIntsBetween(ctx, args) },
  intsBetween: { 3: (ctx, _s, args) => intsBetween(ctx, args) },
});
