import { describe, expect, it } from 'vitest';
import { MatchSpecError, parseCondition, specMatches, type MatchSpec } from '../src/operators.js';
import { normalizeTrigger } from '../src/subscriptions.js';
import { paramsInstanceId } from '../src/canonical.js';
import { parseJson, stringifyJson } from '../src/json.js';

const c = parseCondition;

describe('match operators', () => {
  it.each([
    ['=', 'bat', 'bat', true],
    ['=', 'bat', 'bar', false],
    ['=', 5, '5', false],
    ['!=', 'a', 'b', true],
    ['!=', 'a', undefined, false],
    ['<', 10, 9, true],
    ['<', 'b', 'a', true],
    ['<', 10, '9', false],
    ['<=', 10, 10, true],
    ['>', 9007199254740992n, 9007199254740993n, true],
    ['>=', 12345, 123456, true],
    ['>=', '20240101', '20240102', true],
    ['>=', '20240101', 20240102, false],
    ['prefix', 'db/', 'db/orders', true],
    ['prefix', 'db/', 'dbx', false],
    ['in', ['a', 3], 3, true],
    ['in', ['a', 3], '3', false],
    ['exists', true, 'x', true],
    ['exists', undefined, undefined, false],
    ['exists', false, undefined, true],
  ] as const)('%s %s against %s → %s', (op, value, actual, expected) => {
    const spec: MatchSpec = { p: [c(op, value, 'p')] };
    expect(specMatches(spec, actual === undefined ? {} : { p: actual })).toBe(expected);
  });

  it('holds two bounds on one field', () => {
    const trig = normalizeTrigger(
      { definitions: { s: { matchParams: { w: { value: 10, operator: '>=', extra: { and: { value: 20, operator: '<' } } } }, joinKeys: [] } }, params: {} },
      'signal_triggers[0]',
    );
    const spec = trig.signals[0]!.spec;
    expect([9, 10, 19, 20].map((w) => specMatches(spec, { w }))).toEqual([false, true, true, false]);
  });

  it('names the field of a bad definition', () => {
    expect(() => c('~', 1, 'x.match_params.p')).toThrow(MatchSpecError);
    expect(() => c('=', 1.5, 'x.match_params.p')).toThrow('x.match_params.p.value: must be a string or an integer');
    expect(() => c('in', [], 'f')).toThrow('f.value: the in operator needs a non-empty list');
    expect(() =>
      normalizeTrigger(
        { definitions: { a: { matchParams: {}, joinKeys: ['x'] }, b: { matchParams: {}, joinKeys: [] } }, params: {} },
        'signal_triggers[2]',
      ),
    ).toThrow('signal_triggers[2].definitions.b.join_keys: every signal of a trigger needs the same number of join keys (1)');
  });
});

describe('canonical instance ids and exact JSON', () => {
  it('ignores key order and keeps types apart', () => {
    expect(paramsInstanceId('n', { a: 'x', b: 1 })).toBe(paramsInstanceId('n', { b: 1, a: 'x' }));
    expect(paramsInstanceId('n', { b: 1 })).not.toBe(paramsInstanceId('n', { b: '1' }));
    expect(paramsInstanceId('n', { b: 1 })).not.toBe(paramsInstanceId('m', { b: 1 }));
  });

  it('round-trips 64-bit integers', () => {
    const text = '{"a":9223372036854775807,"b":-9223372036854775808,"c":1.5,"d":12}';
    const v = parseJson(text) as Record<string, unknown>;
    expect(v).toEqual({ a: 9223372036854775807n, b: -9223372036854775808n, c: 1.5, d: 12 });
    expect(stringifyJson(v)).toBe(text);
  });
});
