import { describe, expect, it } from 'vitest';
import { parseWorkflowYaml, type ParamDefMap, type Step } from '@baton/engine-core';

/*
 * The param and transition forms of Maestro's YAML DSL, with the cases of Maestro's
 * ParamParserTest and TransitionParserTest (Netflix/maestro, maestro-dsl, Apache-2.0), written
 * as YAML documents; the expectations are Baton's own, from those tests.
 */

function parsed(text: string) {
  const r = parseWorkflowYaml(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function workflowParams(lines: string): ParamDefMap {
  return parsed(`Workflow:\n  id: wf\n${lines}\n  jobs:\n    - job: {id: a, type: NoOp}\n`).workflow.params;
}

function transitionOf(lines: string[]): Record<string, string> {
  const list = lines.map((l) => `          - ${JSON.stringify(l)}`).join('\n');
  const wf = parsed(`Workflow:\n  id: wf\n  jobs:\n    - job:\n        id: a\n        type: NoOp\n        transition:\n${list}\n`).workflow;
  return (wf.steps[0] as Step).transition.successors;
}

function refused(text: string) {
  const r = parseWorkflowYaml(text);
  expect(r.ok, text).toBe(false);
  return r.ok ? [] : r.errors;
}

describe('DSL params (ParamParserTest.testParamParser)', () => {
  const p = workflowParams(`
  plain_str: foo
  '!expr_str': "1 + 1"
  'typed_long<long>': 100
  typed_double: 1.23
  typed_bool: true
  'mode_param(constant)': bar
  'combo<long>(immutable)': 100
  '!expr_typed<long>(constant)': "1 * 2"
  str_array1: [a, b, c]
  long_array1: [1, 2, 3]
  double_array1: [1.1, 1.2, 1.3]
  bool_array1: [true, false, true]
  'typed_array<array<string>>': [x, y, z]
  'empty_long_array<array<long>>': []
  empty_default: []
  string_map: {k1: v1, k2: v2}
  empty_map: {}
  map: {foo: {bar: 123, baz: bat}}
  'pmap<pmap>': {k1: v1, k2: v2}`);

  it('reads every form to its type, value or expression, and mode', () => {
    expect(Object.keys(p)).toHaveLength(19);
    expect(p.plain_str).toEqual({ name: 'plain_str', type: 'STRING', value: 'foo' });
    expect(p.expr_str).toEqual({ name: 'expr_str', type: 'STRING', expression: '1 + 1' });
    expect(p.typed_long).toEqual({ name: 'typed_long', type: 'LONG', value: 100n });
    expect(p.typed_double).toEqual({ name: 'typed_double', type: 'DOUBLE', value: 1.23 });
    expect(p.typed_bool).toEqual({ name: 'typed_bool', type: 'BOOLEAN', value: true });
    expect(p.mode_param).toEqual({ name: 'mode_param', type: 'STRING', value: 'bar', mode: 'CONSTANT' });
    expect(p.combo).toEqual({ name: 'combo', type: 'LONG', value: 100n, mode: 'IMMUTABLE' });
    expect(p.expr_typed).toEqual({ name: 'expr_typed', type: 'LONG', expression: '1 * 2', mode: 'CONSTANT' });
    expect(p.str_array1?.value).toEqual(['a', 'b', 'c']);
    expect(p.str_array1?.type).toBe('STRING_ARRAY');
    expect(p.long_array1).toMatchObject({ type: 'LONG_ARRAY', value: [1n, 2n, 3n] });
    expect(p.double_array1).toMatchObject({ type: 'DOUBLE_ARRAY', value: [1.1, 1.2, 1.3] });
    expect(p.bool_array1).toMatchObject({ type: 'BOOLEAN_ARRAY', value: [true, false, true] });
    expect(p.typed_array).toMatchObject({ type: 'STRING_ARRAY', value: ['x', 'y', 'z'] });
    expect(p.empty_long_array).toMatchObject({ type: 'LONG_ARRAY', value: [] });
    expect(p.empty_default).toMatchObject({ type: 'STRING_ARRAY', value: [] });
    expect(p.string_map).toMatchObject({ type: 'STRING_MAP', value: { k1: 'v1', k2: 'v2' } });
    expect(p.empty_map).toMatchObject({ type: 'MAP', value: {} });
    expect(p.map).toEqual({
      name: 'map',
      type: 'MAP',
      value: { foo: { name: 'foo', type: 'MAP', value: { bar: { name: 'bar', type: 'LONG', value: 123n }, baz: { name: 'baz', type: 'STRING', value: 'bat' } } } },
    });
    expect(p.pmap).toEqual({ name: 'pmap', type: 'MAP', value: { k1: { name: 'k1', type: 'STRING', value: 'v1' }, k2: { name: 'k2', type: 'STRING', value: 'v2' } } });
  });

  it('reads every mode Maestro has, in any case', () => {
    const modes = workflowParams(`
  'a(constant)': x
  'b(IMMUTABLE)': x
  'c<string>(mutable_on_start)': x
  '!d<long>(Mutable_On_Start_Restart)': "1"
  'e(mutable)': x`);
    expect(Object.values(modes).map((d) => d.mode)).toEqual(['CONSTANT', 'IMMUTABLE', 'MUTABLE_ON_START', 'MUTABLE_ON_START_RESTART', 'MUTABLE']);
  });

  it('takes a whole number after "!" as the expression text, as Maestro does', () => {
    expect(workflowParams("  '!n<long>': 5").n).toEqual({ name: 'n', type: 'LONG', expression: '5' });
  });
});

describe('DSL params Maestro refuses (ParamParserTest.testInvalidCases), each named with its line', () => {
  const cases: [string, RegExp][] = [
    ["'foo(invalid)': bar", /unknown param mode \(invalid\)/],
    ["'foo<unknown>': 123", /unknown type hint <unknown>/],
    ["'num<long>': invalid", /the type LONG given for param num does not match its value, a STRING/],
    ["'longVal<long>': 1.5", /the type LONG given for param longVal does not match its value, a DOUBLE/],
    ['invalidType: [[1]]', /a list param holds strings, whole numbers, numbers or booleans/],
    ["'arr<array<int>>': [1]", /array elements are string, long, double or boolean/],
    ['nothing:', /has no value/],
    ["'<long>': 1", /cannot read param key/],
    ["dup: 1\n  'dup<long>': 2", /defines param dup a second time/],
    ['workflow_params: {a: 1}', /reserved field/],
  ];
  for (const [line, message] of cases) {
    it(line, () => {
      const errors = refused(`Workflow:\n  id: wf\n  ${line}\n  jobs:\n    - job: {id: a, type: NoOp}\n`);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(message);
      expect(errors[0]?.field).toMatch(/^Workflow\./);
      expect(errors[0]?.line).toBe(line.includes('\n') ? 4 : 3);
    });
  }
});

describe('DSL transitions (TransitionParserTest)', () => {
  it('reads plain, IF, OTHERWISE and mixed lines as Maestro does', () => {
    expect(transitionOf(['job.2'])).toEqual({ 'job.2': 'true' });
    expect(transitionOf(['IF param1 > 0 THEN job.2'])).toEqual({ 'job.2': 'param1 > 0' });
    expect(transitionOf(["IF params.getFromStep('job.3', 'param2') > 0 THEN job.5"])).toEqual({ 'job.5': "params.getFromStep('job.3', 'param2') > 0" });
    expect(transitionOf(['OTHERWISE job.2'])).toEqual({ 'job.2': 'true' });
    expect(transitionOf(['IF param2 < 0 THEN job.2', 'OTHERWISE job.3'])).toEqual({ 'job.2': 'param2 < 0', 'job.3': '!((param2 < 0))' });
    expect(transitionOf(['if param2 < 0 THEN job.2', 'OTHErwISE job.3'])).toEqual({ 'job.2': 'param2 < 0', 'job.3': '!((param2 < 0))' });
    expect(transitionOf(['IF param1 > 0 THEN job.2', 'IF param2 < 10 THEN job.3', 'OTHERWISE job.4'])).toEqual({
      'job.2': 'param1 > 0',
      'job.3': 'param2 < 10',
      'job.4': '!((param1 > 0) || (param2 < 10))',
    });
    expect(transitionOf(['job.1', '', 'job.2'])).toEqual({ 'job.1': 'true', 'job.2': 'true' });
  });

  it('has no transition for an empty list', () => {
    expect(transitionOf([])).toEqual({});
  });

  it('refuses a line it cannot read and an OTHERWISE that is not last (testParseInvalidFormat, testParseInvalidList)', () => {
    const job = (lines: string[]) => `Workflow:\n  id: wf\n  jobs:\n    - job:\n        id: a\n        type: NoOp\n        transition:\n${lines.map((l) => `          - ${l}`).join('\n')}\n`;
    expect(refused(job(['invalid value']))).toEqual([
      { field: 'Workflow.jobs[0].job.transition[0]', message: 'cannot read "invalid value": expected a job id, "IF <condition> THEN <job>" or "OTHERWISE <job>"', line: 8, column: 13 },
    ]);
    expect(refused(job(['IF param1 > 0 THEN job.2', 'OTHERWISE job.4', 'IF param2 < 10 THEN job.3']))).toEqual([
      { field: 'Workflow.jobs[0].job.transition[1]', message: '"OTHERWISE job.4" must be the last line of the transition', line: 9, column: 13 },
    ]);
  });
});

describe('dag: as a transition map', () => {
  it('gives transitions to jobs without their own, as a list or one line', () => {
    const wf = parsed(`Workflow:
  id: wf
  x: 1
  dag:
    job1: job2
    job2:
      - IF x > 0 THEN job3
      - IF x > 1 THEN job4
      - OTHERWISE job5
    job5: [job6]
    job6: [job1]
  jobs:
    - job: {id: job1, type: NoOp}
    - job: {id: job2, type: NoOp}
    - job: {id: job3, type: NoOp}
    - job: {id: job4, type: NoOp}
    - job: {id: job5, type: NoOp}
    - job: {id: job6, type: NoOp, transition: [job3]}
`).workflow;
    expect(Object.fromEntries(wf.steps.map((s) => [s.id, s.transition.successors]))).toEqual({
      job1: { job2: 'true' },
      job2: { job3: 'x > 0', job4: 'x > 1', job5: '!((x > 0) || (x > 1))' },
      job3: {},
      job4: {},
      job5: { job6: 'true' },
      job6: { job3: 'true' }, // its own transition wins over the dag's
    });
  });
});
