import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseDurationSeconds, parseJsonText, stringifyJson, toDurationSpec } from '@baton/engine-core';

describe('JSON text', () => {
  it('reads what JSON.parse reads, and writes what it can read back', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        const text = JSON.stringify(v);
        const parsed = parseJsonText(text);
        // Integers beyond 2^53 come back as bigint (exact); as numbers they equal JSON.parse's.
        expect(JSON.parse(stringifyJson(parsed))).toEqual(JSON.parse(text));
        expect(JSON.stringify(parsed, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x))).toBe(JSON.stringify(JSON.parse(text)));
        expect(parseJsonText(stringifyJson(parsed))).toEqual(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps integers beyond 2^53 exact and refuses hostile shapes', () => {
    expect(parseJsonText('[9007199254740993, -9223372036854775808, 1e300, 12.50]')).toEqual([9007199254740993n, -9223372036854775808n, 1e300, 12.5]);
    expect(stringifyJson({ a: 9007199254740993n })).toBe('{"a":9007199254740993}');
    expect(() => parseJsonText('['.repeat(10_000))).toThrow(/nesting deeper than 256/);
    expect(Object.getPrototypeOf(parseJsonText('{"__proto__": {"polluted": true}}'))).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const bad of ['{"a":1,}', "{'a':1}", '[1 2]', '"\\x"', '01', 'nul', '{"a":1} x']) {
      expect(() => parseJsonText(bad), bad).toThrow(JsonSyntaxError);
    }
  });

  it('sorts keys for canonical text', () => {
    expect(stringifyJson({ b: 1, a: { d: 2, c: 3 } }, { sortKeys: true })).toBe('{"a":{"c":3,"d":2},"b":1}');
  });
});

describe('durations', () => {
  it('reads seconds, unit terms and ISO-8601', () => {
    expect(['10s', '1h 30m', '20 minutes', '1d2h', '3600', 'PT1H30M', '2 hours, 5 secs'].map(parseDurationSeconds)).toEqual([10, 5400, 1200, 93600, 3600, 5400, 7205]);
    expect(toDurationSpec(100)).toEqual({ seconds: 100 });
    expect(toDurationSpec('${bar}s')).toEqual({ template: '${bar}s' });
    expect(() => parseDurationSeconds('soon')).toThrow("bad duration 'soon'");
    expect(() => toDurationSpec(-1)).toThrow('non-negative');
    expect(() => toDurationSpec(true)).toThrow('number of seconds or a duration text');
  });
});
