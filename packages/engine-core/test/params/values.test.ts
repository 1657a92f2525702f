import { describe, expect, it } from 'vitest';
import {
  formatParamValue,
  inferParamType,
  interpolate,
  javaDoubleString,
  jsonToParamValue,
  mergeStepParams,
  mergeWorkflowParams,
  paramValueToJson,
  parseParamType,
  parseRef,
  stringifyJson,
  templateRefs,
  valueMatchesType,
  type ParamRef,
  type ParamValue,
} from '@baton/engine-core';

describe('typed param values', () => {
  it('converts JSON to typed values, LONG as exact 64-bit bigint', () => {
    expect(jsonToParamValue('LONG', 9223372036854775807n)).toBe(9223372036854775807n);
    expect(jsonToParamValue('LONG', '-9223372036854775808')).toBe(-9223372036854775808n);
    expect(jsonToParamValue('LONG', 15)).toBe(15n);
    expect(() => jsonToParamValue('LONG', 9223372036854775808n)).toThrow('outside the 64-bit LONG range');
    expect(() => jsonToParamValue('LONG', 2 ** 60)).toThrow('not exact');
    expect(jsonToParamValue('DOUBLE', 2)).toBe(2);
    expect(jsonToParamValue('BOOLEAN', 'TRUE')).toBe(true);
    expect(jsonToParamValue('STRING', 12)).toBe('12');
    expect(jsonToParamValue('LONG_ARRAY', [1, '2'])).toEqual([1n, 2n]);
    expect(jsonToParamValue('STRING_MAP', { a: 1, b: 'x' })).toEqual({ a: '1', b: 'x' });
    expect(jsonToParamValue('MAP', { a: 1, b: ['x'], c: { d: true } })).toEqual({ a: 1n, b: ['x'], c: { d: true } });
  });

  it('writes typed values back to JSON exactly', () => {
    expect(stringifyJson(paramValueToJson({ big: 9223372036854775807n, small: 3n, arr: [1n, 2n], d: 1.5 }))).toBe('{"big":9223372036854775807,"small":3,"arr":[1,2],"d":1.5}');
  });

  it('keeps "__proto__" keys as data', () => {
    const m = jsonToParamValue('STRING_MAP', JSON.parse('{"__proto__": "x"}')) as Record<string, string>;
    expect(Object.keys(m)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
  });

  it('reads type names in any case and infers types of bare values', () => {
    expect(parseParamType('String_array')).toBe('STRING_ARRAY');
    expect(parseParamType('lonG')).toBe('LONG');
    expect(parseParamType('INTEGER')).toBeUndefined();
    expect([15, 1.5, 'x', true, [1, 2], [1, 2.5], ['a'], [], { a: 'b' }, { a: 1 }].map(inferParamType)).toEqual([
      'LONG', 'DOUBLE', 'STRING', 'BOOLEAN', 'LONG_ARRAY', 'DOUBLE_ARRAY', 'STRING_ARRAY', 'STRING_ARRAY', 'STRING_MAP', 'MAP',
    ]);
    expect(valueMatchesType('LONG', 1n)).toBe(true);
    expect(valueMatchesType('LONG', 1)).toBe(false);
    expect(valueMatchesType('DOUBLE_ARRAY', [1, 2])).toBe(true);
  });
});

describe('interpolation', () => {
  const scope: Record<string, ParamValue> = { foo: 'bar', n: 42n, d: 100.0, small: 0.0001, arr: ['a', 'b'], map: { k: 1n }, flag: true };
  const steps: Record<string, Record<string, ParamValue>> = { job1: { sleep_seconds: 15n }, 'job.2': { out: 'x' } };
  const lookup = (ref: ParamRef): ParamValue | undefined => (ref.stepId === undefined ? scope[ref.name] : steps[ref.stepId]?.[ref.name]);

  it('replaces ${name} and $name, with $$ as a literal $', () => {
    expect(interpolate('${foo}+x', lookup)).toBe('bar+x');
    expect(interpolate('$foo.$n', lookup)).toBe('bar.42');
    expect(interpolate('cost: $$5 and $$foo', lookup)).toBe('cost: $5 and $foo');
    expect(interpolate('$$${foo}', lookup)).toBe('$bar');
    expect(interpolate('a $ b $1', lookup)).toBe('a $ b $1');
    expect(interpolate('no refs', lookup)).toBe('no refs');
  });

  it('formats values the way Maestro does', () => {
    expect(interpolate('${d} ${small} ${flag}', lookup)).toBe('100.0 1.0E-4 true');
    expect(interpolate('${arr} ${map}', lookup)).toBe('["a","b"] {"k":1}');
    expect(javaDoubleString(1e10)).toBe('1.0E10');
    expect(javaDoubleString(1.5e-7)).toBe('1.5E-7');
    expect(javaDoubleString(0.5)).toBe('0.5');
    expect(formatParamValue(-9223372036854775808n)).toBe('-9223372036854775808');
  });

  it('reads other steps: ${stepId__param} and ${param@stepId}', () => {
    expect(parseRef('job1__sleep_seconds')).toEqual({ name: 'sleep_seconds', stepId: 'job1' });
    expect(parseRef('out@job.2')).toEqual({ name: 'out', stepId: 'job.2' });
    expect(interpolate('${job1__sleep_seconds} + 1', lookup)).toBe('15 + 1');
    expect(interpolate('$job1__sleep_seconds', lookup)).toBe('15');
    expect(interpolate('${out@job.2}', lookup)).toBe('x');
    expect(templateRefs('${a} $b ${c__d} $$e')).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'd', stepId: 'c' }]);
  });

  it('names what is missing or malformed', () => {
    expect(() => interpolate('${nope}', lookup)).toThrow('param "nope" is not defined');
    expect(() => interpolate('${x@job1}', lookup)).toThrow('param "x" of step "job1" is not defined');
    expect(() => interpolate('${foo', lookup)).toThrow('unclosed "${"');
    expect(() => interpolate('${}', lookup)).toThrow('empty "${}"');
  });
});

describe('merge order', () => {
  const p = (name: string, type: 'STRING' | 'LONG', mode?: 'CONSTANT' | 'IMMUTABLE' | 'MUTABLE_ON_START' | 'MUTABLE') => ({ name, type, ...(mode ? { mode } : {}) });

  it('applies layers lowest first: later layers win', () => {
    const r = mergeStepParams({
      overrides: { a: { ...p('a', 'STRING'), value: 'override' } },
      definition: { a: { ...p('a', 'STRING'), value: 'definition' }, b: { ...p('b', 'STRING'), value: 'definition' } },
      runParams: { b: { ...p('b', 'STRING'), value: 'run' }, c: { ...p('c', 'STRING'), value: 'run' } },
      reserved: { step_id: { ...p('step_id', 'STRING', 'CONSTANT'), value: 'job.1' } },
      typeDefaults: { loop_index: { ...p('loop_index', 'LONG', 'CONSTANT'), value: 0n } },
    });
    expect(r.errors).toEqual([]);
    expect(Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, v.value]))).toEqual({ step_id: 'job.1', loop_index: 0n, b: 'definition', c: 'run', a: 'override' });
  });

  it('refuses reserved names and mode or type violations from requests', () => {
    const r = mergeStepParams(
      {
        reserved: { step_id: p('step_id', 'STRING', 'CONSTANT') },
        definition: { fixed: p('fixed', 'STRING', 'CONSTANT'), once: p('once', 'STRING', 'MUTABLE_ON_START'), n: p('n', 'LONG') },
        overrides: { step_id: p('step_id', 'STRING'), fixed: p('fixed', 'STRING'), once: p('once', 'STRING'), n: p('n', 'STRING') },
      },
      'restart',
    );
    expect(r.errors).toEqual([
      { name: 'step_id', layer: 'overrides', message: '"step_id" is reserved and cannot be set' },
      { name: 'fixed', layer: 'overrides', message: '"fixed" is CONSTANT and cannot be changed on restart' },
      { name: 'once', layer: 'overrides', message: '"once" is MUTABLE_ON_START and cannot be changed on restart' },
      { name: 'n', layer: 'overrides', message: '"n" is LONG; an override of type STRING is not allowed' },
    ]);
    expect(r.params.fixed?.mode).toBe('CONSTANT');
    expect(mergeWorkflowParams({ definition: { once: p('once', 'STRING', 'MUTABLE_ON_START') }, runParams: { once: p('once', 'STRING') } }, 'start').errors).toEqual([]);
  });
});
