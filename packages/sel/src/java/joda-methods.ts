import type { HostContext } from '../host-context.js';
import { runtimeError } from '../errors.js';
import { MS_PER_DAY } from './civil.js';
import { DateTime, Days, daysBetween, fieldRange, localOf, type FieldName } from './datetime.js';
import { DateTimeFormatter, formatterFor } from './joda-format.js';
import { argError, argInt, argOf, argString, methodTable, nullProto, type MethodImpl, type MethodTable } from './types.js';
import { DateTimeZone, zoneForId } from './zone.js';

/** Joda's DateTime.Property: a DateTime and one of its fields. */
export class DateTimeProperty {
  readonly selType = 'DATETIME_PROPERTY';
  constructor(
    readonly dateTime: DateTime,
    readonly field: FieldName,
  ) {}
  toString(): string {
    return `Property[${this.field}]`;
  }
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const ISO_RE = /^([+-]?\d{4,9})(?:-(\d\d)(?:-(\d\d))?)?(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d\d(?::?\d\d)?)?$/;

/** Joda's ISODateTimeFormat.dateTimeParser for `new DateTime(String[, zone])`. */
export function parseIso(text: string, zone: DateTimeZone): DateTime {
  const m = ISO_RE.exec(text);
  if (!m) throw runtimeError(`Invalid format: "${text.length > 80 ? text.slice(0, 80) + '…' : text}"`);
  const local = localOf(Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0')));
  const off = m[8];
  if (off === undefined) return new DateTime(zone.localToUtc(local), zone);
  if (off === 'Z') return new DateTime(local, zone);
  const om = /^([+-])(\d\d):?(\d\d)?$/.exec(off)!;
  const offset = (Number(om[2]) * 3_600_000 + Number(om[3] ?? 0) * 60_000) * (om[1] === '-' ? -1 : 1);
  return new DateTime(local - offset, zone);
}

function dt(self: unknown, method: string): DateTime {
  if (!(self instanceof DateTime)) throw runtimeError(`${method} needs a DateTime`);
  return self;
}

function zoneArg(method: string, args: unknown[], i: number): DateTimeZone {
  return argOf(method, args, i, DateTimeZone, 'DateTimeZone');
}

function dateTimeArg(method: string, args: unknown[], i: number): DateTime {
  return argOf(method, args, i, DateTime, 'DateTime');
}

const FIELDS: FieldName[] = ['year', 'monthOfYear', 'dayOfMonth', 'dayOfWeek', 'dayOfYear', 'weekyear', 'weekOfWeekyear', 'hourOfDay', 'minuteOfDay', 'minuteOfHour', 'secondOfDay', 'secondOfMinute', 'millisOfDay', 'millisOfSecond'];
const PROPERTY_FIELDS: FieldName[] = ['monthOfYear', 'weekyear', 'weekOfWeekyear', 'dayOfYear', 'dayOfMonth', 'dayOfWeek', 'hourOfDay', 'minuteOfDay', 'minuteOfHour', 'secondOfDay', 'secondOfMinute', 'millisOfDay', 'millisOfSecond'];
const WITH_FIELDS: FieldName[] = ['year', 'weekyear', 'monthOfYear', 'weekOfWeekyear', 'dayOfYear', 'dayOfMonth', 'dayOfWeek', 'hourOfDay', 'minuteOfHour', 'secondOfMinute', 'millisOfSecond', 'millisOfDay'];

const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

const dateTimeSpec: Record<string, Record<number, MethodImpl>> = {
  toString: {
    0: (_c: HostContext, self: unknown) => dt(self, 'toString').toString(),
    1: (_c: HostContext, self: unknown, args: unknown[]) => { const d = dt(self, 'toString'); return formatterFor(argString('DateTime.toString', args, 0)).print(d.millis, d.zone); },
  },
  withZone: { 1: (_c, self, args) => { const d = dt(self, 'withZone'); const z = zoneArg('DateTime.withZone', args, 0); return z === d.zone ? d : new DateTime(d.millis, z); } },
  toDateTime: { 1: (_c, self, args) => { const d = dt(self, 'toDateTime'); const z = zoneArg('DateTime.toDateTime', args, 0); return z === d.zone ? d : new DateTime(d.millis, z); } },
  isAfter: { 1: (_c, self, args) => dt(self, 'isAfter').millis > dateTimeArg('DateTime.isAfter', args, 0).millis },
  isBefore: { 1: (_c, self, args) => dt(self, 'isBefore').millis < dateTimeArg('DateTime.isBefore', args, 0).millis },
  isEqual: { 1: (_c, self, args) => dt(self, 'isEqual').millis === dateTimeArg('DateTime.isEqual', args, 0).millis },
  withTimeAtStartOfDay: { 0: (_c, self) => { const d = dt(self, 'withTimeAtStartOfDay'); return d.withLocal(Math.floor(d.local / MS_PER_DAY) * MS_PER_DAY, false); } },
  getMillis: { 0: (_c, self) => BigInt(dt(self, 'getMillis').millis) },
};

const UNIT_MS: Record<string, number> = { Hours: 3_600_000, Minutes: 60_000, Seconds: 1000, Millis: 1 };
for (const unit of ['Years', 'Months', 'Weeks', 'Days', 'Hours', 'Minutes', 'Seconds', 'Millis']) {
  for (const sign of [1, -1]) {
    const name = `${sign > 0 ? 'plus' : 'minus'}${unit}`;
    dateTimeSpec[name] = {
      1: (_c, self, args) => {
        const d = dt(self, name);
        const n = argInt(`DateTime.${name}`, args, 0) * sign;
        if (unit === 'Years') return d.plusMonths(n * 12);
        if (unit === 'Months') return d.plusMonths(n);
        if (unit === 'Weeks') return d.plusDays(n * 7);
        if (unit === 'Days') return d.plusDays(n);
        return d.withMillis(d.millis + n * UNIT_MS[unit]!);
      },
    };
  }
}
for (const f of FIELDS) {
  if (f === 'year' || f === 'hourOfDay' || f === 'weekOfWeekyear' || f === 'weekyear' || f === 'dayOfWeek' || f === 'dayOfMonth' || f === 'dayOfYear' || f === 'millisOfDay' || f === 'millisOfSecond' || f === 'minuteOfDay' || f === 'minuteOfHour' || f === 'secondOfMinute' || f === 'monthOfYear' || f === 'secondOfDay') {
    dateTimeSpec[`get${cap(f)}`] = { 0: (_c, self) => BigInt(dt(self, `get${cap(f)}`).get(f)) };
  }
}
for (const f of PROPERTY_FIELDS) dateTimeSpec[f] = { 0: (_c, self) => new DateTimeProperty(dt(self, f), f) };
for (const f of WITH_FIELDS) {
  const name = `with${cap(f)}`;
  dateTimeSpec[name] = { 1: (_c, self, args) => dt(self, name).with(f, argInt(`DateTime.${name}`, args, 0)) };
}

/** Methods on DateTime values. */
export const dateTimeMethods: MethodTable = methodTable(dateTimeSpec);

/** `DateTime.parse(text, formatter)` — the one static the reference's DateTime object answers. */
export const dateTimeStatics: MethodTable = methodTable({
  parse: {
    2: (ctx, _self, args) => {
      const text = argString('DateTime.parse', args, 0);
      return argOf('DateTime.parse', args, 1, DateTimeFormatter, 'DateTimeFormatter').parseDateTime(text, () => ctx.nowMillis());
    },
  },
});

function newDateTime(ctx: HostContext, args: unknown[]): DateTime {
  if (args.length === 0) return new DateTime(Math.trunc(ctx.nowMillis()), DateTimeZone.UTC);
  const v = args[0];
  const zone = args.length === 2 ? zoneArg('new DateTime', args, 1) : DateTimeZone.UTC;
  if (typeof v === 'bigint') {
    if (v > 2n ** 53n || v < -(2n ** 53n)) throw runtimeError(`new DateTime: instant ${v} is outside the supported range`);
    return new DateTime(Number(v), zone);
  }
  if (typeof v === 'string') return parseIso(v, zone);
  if (v instanceof DateTime) return new DateTime(v.millis, zone);
  throw argError('new DateTime', 0, 'LONG, STRING or DateTime', v);
}

export const dateTimeConstructors: Record<number, MethodImpl> = nullProto<MethodImpl>({
  0: (ctx: HostContext, _s: unknown, args: unknown[]) => newDateTime(ctx, args),
  1: (ctx: HostContext, _s: unknown, args: unknown[]) => newDateTime(ctx, args),
  2: (ctx: HostContext, _s: unknown, args: unknown[]) => newDateTime(ctx, args),
  8: (_c: HostContext, _s: unknown, args: unknown[]) => {
    const n = (i: number) => argInt('new DateTime', args, i);
    const zone = zoneArg('new DateTime', args, 7);
    return new DateTime(zone.localToUtc(localOf(n(0), n(1), n(2), n(3), n(4), n(5), n(6))), zone);
  },
});

function prop(self: unknown): DateTimeProperty {
  if (!(self instanceof DateTimeProperty)) throw runtimeError('Property method needs a Property');
  return self;
}

export const propertyMethods: MethodTable = methodTable({
  getAsText: {
    0: (_c, self) => {
      const p = prop(self);
      const v = p.dateTime.get(p.field);
      if (p.field === 'monthOfYear') return MONTH_NAMES[v - 1]!;
      if (p.field === 'dayOfWeek') return DAY_NAMES[v - 1]!;
      return String(v);
    },
  },
  withMinimumValue: { 0: (_c, self) => { const p = prop(self); return p.dateTime.with(p.field, fieldRange(p.dateTime, p.field)[0]); } },
  withMaximumValue: { 0: (_c, self) => { const p = prop(self); return p.dateTime.with(p.field, fieldRange(p.dateTime, p.field)[1]); } },
  get: { 0: (_c, self) => { const p = prop(self); return BigInt(p.dateTime.get(p.field)); } },
});

export const daysStatics: MethodTable = methodTable({
  daysBetween: { 2: (_c, _s, args) => daysBetween(dateTimeArg('Days.daysBetween', args, 0), dateTimeArg('Days.daysBetween', args, 1)) },
});

export const daysMethods: MethodTable = methodTable({
  ...daysStatics,
  getDays: { 0: (_c, self) => { if (!(self instanceof Days)) throw runtimeError('getDays needs a Days value'); return BigInt(self.days); } },
});

export const zoneStatics: MethodTable = methodTable({
  forID: { 1: (_c, _s, args) => zoneForId(argString('DateTimeZone.forID', args, 0)) },
});

export const zoneMethods: MethodTable = methodTable({
  ...zoneStatics,
  getOffset: {
    1: (_c, self, args) => {
      if (!(self instanceof DateTimeZone)) throw runtimeError('getOffset needs a DateTimeZone');
      const v = args[0];
      if (v instanceof DateTime) return BigInt(self.offsetAt(v.millis));
      if (typeof v === 'bigint') return BigInt(self.offsetAt(Number(v)));
      throw argError('DateTimeZone.getOffset', 0, 'DateTime', v);
    },
  },
});

export const zoneFields: Record<string, unknown> = nullProto<unknown>({ UTC: DateTimeZone.UTC });

function fmt(self: unknown): DateTimeFormatter {
  if (!(self instanceof DateTimeFormatter)) throw runtimeError('DateTimeFormatter method needs a DateTimeFormatter');
  return self;
}

export const formatterStatics: MethodTable = methodTable({
  forPattern: { 1: (_c, _s, args) => formatterFor(argString('DateTimeFormat.forPattern', args, 0)) },
});

export const formatterMethods: MethodTable = methodTable({
  ...formatterStatics,
  withZone: { 1: (_c, self, args) => fmt(self).withZone(zoneArg('DateTimeFormatter.withZone', args, 0)) },
  parseDateTime: {
    1: (ctx, self, args) => {
      const v = args[0];
      if (typeof v !== 'string' && typeof v !== 'bigint') throw argError('DateTimeFormatter.parseDateTime', 0, 'STRING or LONG', v);
      return fmt(self).parseDateTime(String(v), () => ctx.nowMillis());
    },
  },
  parseMillis: { 1: (ctx, self, args) => BigInt(fmt(self).parseMillis(argString('DateTimeFormatter.parseMillis', args, 0), () => ctx.nowMillis())) },
  print: {
    1: (ctx, self, args) => {
      const f = fmt(self);
      const v = args[0];
      let out: string;
      if (typeof v === 'bigint') out = f.print(Number(v));
      else if (v instanceof DateTime) out = f.print(v.millis, v.zone);
      else throw argError('DateTimeFormatter.print', 0, 'LONG or DateTime', v);
      ctx.chargeMemory(out.length);
      return out;
    },
  },
});
