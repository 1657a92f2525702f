import { describe, expect, it } from 'vitest';
import type { HostContext } from '../../src/host-context.js';
import {
  DateTime, DateTimeZone, TypedList, constructors, findMethod, hostMethods, hostMethodsOf, hostTypeName, javaDoubleToString, javaFormat, staticClasses, stringMethods,
} from '../../src/java/index.js';

const ctx = (now = 12345, arrayLimit = 25001): HostContext => ({
  chargeMemory() {},
  chargeWork() {},
  workLeft: () => Infinity,
  checkArrayLength(n) { if (n > arrayLimit) throw new Error(`array limit ${arrayLimit}`); },
  checkStringLength() {},
  nowMillis: () => now,
  random: () => 0.5,
});

function callStatic(cls: string, name: string, ...args: unknown[]): unknown {
  const m = findMethod(staticClasses[cls]!.methods, name, args.length);
  if (!m) throw new Error(`no ${cls}.${name}/${args.length}`);
  return m(ctx(), undefined, args);
}
function call(self: unknown, type: string, name: string, ...args: unknown[]): unknown {
  const m = findMethod(type === 'STRING' ? stringMethods : hostMethods[type]!, name, args.length);
  if (!m) throw new Error(`no ${type}.${name}/${args.length}`);
  return m(ctx(), self, args);
}
const newDT = (...args: unknown[]) => constructors.DateTime![args.length]!(ctx(), undefined, args) as DateTime;
const UTC = DateTimeZone.UTC;
const items = (v: unknown) => (v as TypedList).items;

describe('Double.toString', () => {
  it.each([[100, '100.0'], [1e10, '1.0E10'], [1e-4, '1.0E-4'], [0.001, '0.001'], [1e7, '1.0E7'], [-0, '-0.0'], [NaN, 'NaN'], [1.1, '1.1'], [Infinity, 'Infinity'], [123456789.123, '1.23456789123E8']])('%d', (d, s) => {
    expect(javaDoubleToString(d)).toBe(s);
  });
});

describe('String.format', () => {
  it.each([
    ['%s-%s', ['ab', 'c'], 'ab-c'], ['%s-%d', ['ab', 123n], 'ab-123'], ['%05d', [-42n], '-0042'], ['%,d', [1234567n], '1,234,567'],
    ['%x', [-1n], 'ffffffff'], ['%.2f', [1.005], '1.01'], ['%.1f', [0.15], '0.2'], ['%e', [12345.678], '1.234568e+04'],
    ['%2$s %1$s %<s', ['a', 'b'], 'b a a'], ['%-4s|', ['ab'], 'ab  |'], ['%(d', [-5n], '(5)'], ['%b %c%n%%', [null, 65n], 'false A\n%'],
    ['%s', [100.0], '100.0'], ['%g', [0.0001], '0.000100000'],
  ])('%s', (fmt, args, out) => {
    expect(javaFormat(ctx(), fmt, args)).toBe(out);
  });
  it('rejects what Java rejects', () => {
    expect(() => javaFormat(ctx(), '%d', [1.5])).toThrow(/IllegalFormatConversion/);
    expect(() => javaFormat(ctx(), '%.2f', [1n])).toThrow(/IllegalFormatConversion/);
    expect(() => javaFormat(ctx(), '%s %s', ['a'])).toThrow(/MissingFormatArgument/);
    expect(() => javaFormat(ctx(), '%q', [1n])).toThrow(/UnknownFormatConversion/);
  });
});

describe('strings (conformance values)', () => {
  it('methods', () => {
    expect(call('FooBar ', 'STRING', 'toUpperCase')).toBe('FOOBAR ');
    expect(call('FooBar ', 'STRING', 'length')).toBe(7n);
    expect(call('FooBar ', 'STRING', 'trim')).toBe('FooBar');
    expect(call('FooBar ', 'STRING', 'lastIndexOf', 'oBa')).toBe(2n);
    expect(call('FooBar ', 'STRING', 'compareTo', 'oBa')).toBe(-41n);
    expect(call('FooBar ', 'STRING', 'contains', 'oBa')).toBe(true);
    expect(call('a-B- c', 'STRING', 'replaceAll', ' b', '-B-')).toBe('a-B- c');
    expect(items(call('a b c', 'STRING', 'split', '\\ '))).toEqual(['a', 'b', 'c']);
    expect(items(call('a b c', 'STRING', 'split', '\\ ', 2n))).toEqual(['a', 'b c']);
    expect(items(call(',a,,b,,', 'STRING', 'split', ','))).toEqual(['', 'a', '', 'b']);
    expect(call('a b c', 'STRING', 'substring', 3n)).toBe(' c');
    expect(call('a b c', 'STRING', 'substring', 1n, 3n)).toBe(' b');
    expect(() => call('a b c', 'STRING', 'substring', 4n, 3n)).toThrow(/StringIndexOutOfBounds/);
    expect(call('john@x', 'STRING', 'replaceAll', '(\\w+)@(\\w+)', '$2 at $1')).toBe('x at john');
    expect(call('{"foo"}', 'STRING', 'escape')).toBe('{\\"foo\\"}');
    expect(findMethod(stringMethods, 'isEmpty', 1)).toBeUndefined();
    expect(findMethod(stringMethods, 'constructor', 0)).toBeUndefined();
  });
  it('statics', () => {
    expect(callStatic('String', 'join', ',', 'ab', 'c')).toBe('ab,c');
    expect(callStatic('String', 'join', ',')).toBe('');
    expect(callStatic('String', 'join', ',', ['z', 'ab', 'c'])).toBe('z,ab,c');
    expect(callStatic('String', 'valueOf', 1.1)).toBe('1.1');
    expect(callStatic('String', 'valueOf', 9223372036854775807n)).toBe('9223372036854775807');
    expect(callStatic('Long', 'valueOf', '123')).toBe(123n);
    expect(callStatic('Double', 'toString', 2.2)).toBe('2.2');
    expect(callStatic('Math', 'pow', 3n, 2n)).toBe(9);
    expect(() => callStatic('Math', 'min', null, null)).toThrow();
    expect(findMethod(staticClasses.Math!.methods, 'sqrt', 1)).toBeUndefined();
    expect(staticClasses.DateTimeConstants!.fields!.SUNDAY).toBe(7n);
  });
  it('runs nested quantifiers in linear time and refuses what needs backtracking, naming it and its index', () => {
    expect(items(call('aaaa', 'STRING', 'split', '(a+)+'))).toEqual([]);
    expect(() => call('aaaa', 'STRING', 'split', 'a++')).toThrow(/possessive quantifier \(\+\+\) at index 1/);
  });
});

describe('Joda date/time (conformance values)', () => {
  const d = () => newDT(12345n, UTC);
  it('DateTime', () => {
    expect(d().toString()).toBe('1970-01-01T00:00:12.345Z');
    expect(String(call(d(), 'DATETIME', 'minusYears', 1n))).toBe('1969-01-01T00:00:12.345Z');
    expect(String(call(d(), 'DATETIME', 'minusWeeks', 1n))).toBe('1969-12-25T00:00:12.345Z');
    expect(String(call(d(), 'DATETIME', 'withYear', 1n))).toBe('0001-01-01T00:00:12.345Z');
    expect(String(call(d(), 'DATETIME', 'withWeekyear', 1n))).toBe('0001-01-04T00:00:12.345Z');
    expect(String(call(d(), 'DATETIME', 'withDayOfWeek', 1n))).toBe('1969-12-29T00:00:12.345Z');
    expect(String(call(d(), 'DATETIME', 'withMillisOfDay', 1n))).toBe('1970-01-01T00:00:00.001Z');
    expect(call(d(), 'DATETIME', 'getDayOfWeek')).toBe(4n);
    expect(call(d(), 'DATETIME', 'getSecondOfDay')).toBe(12n);
    expect(call(d(), 'DATETIME', 'toString', 'yyyy')).toBe('1970');
    expect(String(call(d(), 'DATETIME', 'dayOfWeek'))).toBe('Property[dayOfWeek]');
    expect(() => call(d(), 'DATETIME', 'minusYears', null)).toThrow();
    const la = callStatic('DateTimeZone', 'forID', 'America/Los_Angeles');
    const dt8 = newDT(2005n, 3n, 26n, 12n, 0n, 0n, 0n, la);
    expect(call(call(call(dt8, 'DATETIME', 'toDateTime', UTC), 'DATETIME', 'plusHours', 2n), 'DATETIME', 'getMillis')).toBe(1111874400000n);
    expect(call(la, 'DATETIME_ZONE', 'getOffset', newDT(0n, la))).toBe(-28800000n);
    expect(() => callStatic('DateTimeZone', 'forID', '../../etc/passwd')).toThrow(/not recognised/);
  });
  it('Property and Days', () => {
    const p = call(d(), 'DATETIME', 'dayOfWeek');
    expect(call(p, 'DATETIME_PROPERTY', 'getAsText')).toBe('Thursday');
    expect(String(call(p, 'DATETIME_PROPERTY', 'withMinimumValue'))).toBe('1969-12-29T00:00:12.345Z');
    expect(String(call(p, 'DATETIME_PROPERTY', 'withMaximumValue'))).toBe('1970-01-04T00:00:12.345Z');
    const days = callStatic('Days', 'daysBetween', newDT('2019-01-01', UTC), newDT('2019-02-01', UTC));
    expect(String(days)).toBe('P31D');
    expect(call(days, 'DATETIME_DAYS', 'getDays')).toBe(31n);
  });
  it('DateTimeFormat', () => {
    const f = call(callStatic('DateTimeFormat', 'forPattern', 'yyyy'), 'DATETIME_FORMATTER', 'withZone', UTC);
    expect(String(call(f, 'DATETIME_FORMATTER', 'parseDateTime', '2019'))).toBe('2019-01-01T00:00:00.000Z');
    expect(String(call(f, 'DATETIME_FORMATTER', 'parseDateTime', 2019n))).toBe('2019-01-01T00:00:00.000Z');
    expect(call(f, 'DATETIME_FORMATTER', 'parseMillis', '2019')).toBe(1546300800000n);
    expect(call(f, 'DATETIME_FORMATTER', 'print', 12345n)).toBe('1970');
    expect(call(callStatic('DateTimeFormat', 'forPattern', 'yyyyMMdd'), 'DATETIME_FORMATTER', 'print', d())).toBe('19700101');
    expect(String(callStatic('DateTime', 'parse', '20190101', call(callStatic('DateTimeFormat', 'forPattern', 'yyyyMMdd'), 'DATETIME_FORMATTER', 'withZone', UTC)))).toBe('2019-01-01T00:00:00.000Z');
  });
});

describe('Util (conformance values)', () => {
  const u = (name: string, ...args: unknown[]) => findMethod(staticClasses.Util!.methods, name, args.length)!(ctx(), undefined, args);
  it('date ints', () => {
    expect(u('incrementDateInt', 20190101n, 5n)).toBe('20190106');
    expect(() => u('incrementDateInt', '20190101', '5')).toThrow();
    expect(u('dateIntToTs', '20190101')).toBe(1546300800000n);
    expect(() => u('dateIntToTs', 20200230n)).toThrow(/dayOfMonth/);
    expect(u('dateIntHourToTs', 20190101n, 1n, 'UTC', 1n, 1n)).toBe(1546214400000n);
    expect(u('dateIntHourToTs', '20210707', '01', 'UTC', 0n, 0n)).toBe(1625619600000n);
    expect(u('tsToDateInt', '12345')).toBe('19700101');
    expect(() => u('tsToDateInt', '123.45')).toThrow(/NumberFormat/);
    expect(u('timeoutForDateIntDeadline', 20190101n, '1 day')).toBe('1546387187655 milliseconds');
    expect(() => u('timeoutForDateIntDeadline', '2019010101', '1 day')).toThrow();
    expect(items(u('dateIntsBetween', '20190226', 20190303n, '1'))).toEqual([20190226n, 20190227n, 20190228n, 20190301n, 20190302n]);
    expect(items(u('dateIntsBetween', 20181228n, '20191002', 90n))).toEqual([20181228n, 20190328n, 20190626n, 20190924n]);
    expect(items(u('dateIntsBetween', '20190303', 20190226n, '-1'))).toEqual([20190302n, 20190301n, 20190228n, 20190227n, 20190226n]);
    expect(items(u('dateIntsBetween', 20181228n, '20191002', -90n))).toEqual([]);
    expect(() => u('dateIntsBetween', 20181228n, '20191002', 0n)).toThrow();
    expect(() => u('dateIntsBetween', 20190229n, 20190303n, 1n)).toThrow();
    expect(() => u('dateIntsBetween', 0n, 99999999n, 1n)).toThrow();
    expect(items(u('intsBetween', 1n, '-5', -2n))).toEqual([1n, -1n, -3n]);
    expect(items(u('intsBetween', 5n, '1', '-2'))).toEqual([5n, 3n]);
    expect(() => u('intsBetween', 'foo', 3n, 1n)).toThrow(/NumberFormat/);
  });
  it('dateIntsBetween refuses huge ranges through the array limit before building', () => {
    expect(() => findMethod(staticClasses.Util!.methods, 'dateIntsBetween', 3)!(ctx(0, 25001), undefined, [19000101n, 29990101n, 1n])).toThrow(/array limit/);
  });
});

describe('host objects', () => {
  it('dispatch to the methods of their type name', () => {
    const d = newDT(0n);
    const samples = [
      d, DateTimeZone.UTC, callStatic('DateTimeFormat', 'forPattern', 'yyyy'), call(d, 'DATETIME', 'dayOfMonth'),
      callStatic('Days', 'daysBetween', d, d), callStatic('UUID', 'randomUUID'),
    ];
    for (const v of samples) {
      expect(hostTypeName(v)).toBeDefined();
      expect(hostMethodsOf(v)).toBe(hostMethods[hostTypeName(v)!]);
    }
    expect(hostMethodsOf('x')).toBeUndefined();
    expect(hostMethodsOf(new Map())).toBeUndefined();
  });
});

describe('two-digit years', () => {
  it('read the clock only when the pattern has a two-digit year, and pivot around it', () => {
    let reads = 0;
    const clock: HostContext = { ...ctx(), nowMillis: () => { reads++; return Date.UTC(2024, 0, 1); } };
    const parse = (pattern: string, text: string): string => {
      const f = findMethod(staticClasses.DateTimeFormat!.methods, 'forPattern', 1)!(clock, undefined, [pattern]);
      return String(findMethod(hostMethods.DATETIME_FORMATTER!, 'parseDateTime', 1)!(clock, f, [text]));
    };
    expect(parse('yyyyMMdd', '20240315')).toBe('2024-03-15T00:00:00.000Z');
    expect(reads).toBe(0);
    expect(parse('yyMMdd', '940315')).toBe('1994-03-15T00:00:00.000Z');
    expect(parse('yyMMdd', '430315')).toBe('2043-03-15T00:00:00.000Z');
    expect(reads).toBe(2);
  });
});

describe('speed', () => {
  it('parses, shifts and prints in microseconds', () => {
    const f = call(callStatic('DateTimeFormat', 'forPattern', 'yyyyMMddHH'), 'DATETIME_FORMATTER', 'withZone', callStatic('DateTimeZone', 'forID', 'UTC'));
    const n = 20000;
    // CPU time rather than wall time: other processes sharing the machine must not fail the test.
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const p = call(f, 'DATETIME_FORMATTER', 'parseDateTime', '2024031500');
      call(call(p, 'DATETIME', 'minusDays', 1n), 'DATETIME', 'toString', 'yyyyMMdd');
      callStatic('Util', 'dateIntsBetween', 20240101n, 20240201n, 1n);
    }
    const used = process.cpuUsage(c0);
    const perOp = (used.user + used.system) / n;
    expect(perOp).toBeLessThan(50);
  });
});
