import { describe, expect, it } from 'vitest';
import { checkWorkflowDefinition, parseWorkflowJson, parseWorkflowYaml, validateWorkflow, type DefinitionIssue, type WorkflowRequest } from '@baton/engine-core';

function step(id: string, successors: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { step: { id, type: 'NoOp', transition: { successors }, ...extra } };
}

function request(steps: unknown[], workflow: Record<string, unknown> = {}, properties: Record<string, unknown> = { owner: 'tester' }) {
  return { properties, workflow: { id: 'wf', steps, ...workflow } };
}

function parsed(value: unknown): WorkflowRequest {
  const r = parseWorkflowJson(JSON.stringify(value));
  if (!r.ok) throw new Error(`unexpected parse errors: ${JSON.stringify(r.errors)}`);
  return r.value;
}

function parseErrors(value: unknown): DefinitionIssue[] {
  const r = parseWorkflowJson(typeof value === 'string' ? value : JSON.stringify(value));
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

function validationErrors(value: unknown, opts: Parameters<typeof validateWorkflow>[1] = {}): DefinitionIssue[] {
  return validateWorkflow(parsed(value), opts);
}

describe('malformed input', () => {
  it('reports JSON syntax errors with line and column', () => {
    expect(parseErrors('{\n  "workflow": {"id": "a",\n    "steps": [}\n}')).toEqual([
      { field: '', message: "malformed JSON: unexpected '}' at line 3, column 15", line: 3, column: 15 },
    ]);
    expect(parseErrors('{"workflow": {"id": "a", "id": "b"}}')[0]?.message).toContain('duplicate key "id"');
    expect(parseErrors('')[0]?.message).toContain('unexpected end of input');
  });

  it('reports YAML syntax errors with line and column', () => {
    const r = parseWorkflowYaml('Workflow:\n  id: a\n  jobs: [\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]?.message).toMatch(/^malformed YAML: /);
    expect(r.errors[0]?.line).toBeGreaterThanOrEqual(3);
    expect(r.errors[0]?.column).toBeGreaterThanOrEqual(1);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
    }
    lines.push('Workflow:\n  id: bomb\n  payload: *j\n  jobs:\n    - job:\n        id: j1\n        type: NoOp');
    const started = Date.now();
    const r = parseWorkflowYaml(lines.join('\n'));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toMatch(/alias/i);
  });

  it('names YAML DSL mistakes and points at the job', () => {
    const r = parseWorkflowYaml('Workflow:\n  id: wf\n  jobs:\n    - job:\n        id: a\n        type: NoOp\n        transition:\n          - IF x > 1 job.2\n    - job:\n        id: b\n        \'p<weird>\': 1\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { field: 'Workflow.jobs[0].job.transition[0]', message: 'cannot read "IF x > 1 job.2": expected a job id, "IF <condition> THEN <job>" or "OTHERWISE <job>"', line: 8, column: 13 },
      { field: 'Workflow.jobs[1].job.p<weird>', message: expect.stringMatching(/^unknown type hint <weird>; use string, long/), line: 11, column: 9 },
    ]);
    const untyped = parseWorkflowYaml('Workflow:\n  id: wf\n  jobs:\n    - job:\n        id: a\n        type: NoOp\n    - job:\n        type: NoOp\n');
    expect(untyped.ok).toBe(false);
    if (!untyped.ok) expect(untyped.errors).toEqual([{ field: 'workflow.steps[1].id', message: 'is required', line: 8, column: 9 }]);
  });

  it('reports structural problems all at once with their field paths', () => {
    const errors = parseErrors({
      properties: { owner: 'x', run_strategy: 'sometimes', step_concurrency: 0 },
      workflow: {
        id: 'wf',
        params: { a: { value: 1, expression: '1', type: 'LONG' }, b: { type: 'LONG' }, c: { value: 'x', type: 'INTEGER' } },
        steps: [{ stepp: { id: 'x' } }, { step: { type: 'NoOp', failure_mode: 'maybe', timeout: '5 fortnights' } }],
      },
    });
    expect(errors).toEqual([
      { field: 'workflow.params.a', message: 'has both a value and an expression; give exactly one' },
      { field: 'workflow.params.b', message: 'needs a value or an expression' },
      { field: 'workflow.params.c.type', message: 'unknown param type "INTEGER"; use STRING, LONG, DOUBLE, BOOLEAN, STRING_MAP, STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY, BOOLEAN_ARRAY or MAP' },
      { field: 'workflow.steps[0]', message: 'must be {"step": {...}}, {"foreach": {...}}, {"while": {...}} or {"subworkflow": {...}}, got keys ["stepp"]' },
      { field: 'workflow.steps[1].id', message: 'is required' },
      { field: 'workflow.steps[1].failure_mode', message: 'must be one of FAIL_AFTER_RUNNING, FAIL_IMMEDIATELY, IGNORE_FAILURE, got "maybe"' },
      { field: 'workflow.steps[1].timeout', message: "bad duration '5 fortnights': unknown unit 'fortnights' (use d, h, m or s)" },
      { field: 'properties.run_strategy', message: 'must be one of SEQUENTIAL, STRICT_SEQUENTIAL, FIRST_ONLY, LAST_ONLY, PARALLEL, SERIAL_LATEST_ONLY, got "sometimes"' },
      { field: 'properties.step_concurrency', message: 'must be between 1 and 1000000, got 0' },
    ]);
  });

  it('checks literal values against their declared types, LONG exactly to 64 bits', () => {
    const errors = parseErrors(
      '{"workflow": {"id": "wf", "steps": [{"step": {"id": "a", "type": "NoOp", "params": {' +
        '"ok": {"value": 9223372036854775807, "type": "LONG"},' +
        '"big": {"value": 9223372036854775808, "type": "LONG"},' +
        '"frac": {"value": 1.5, "type": "LONG"},' +
        '"arr": {"value": [1, "x"], "type": "LONG_ARRAY"},' +
        '"flag": {"value": "yes", "type": "BOOLEAN"},' +
        '"map": {"value": {"k": [1]}, "type": "STRING_MAP"},' +
        '"str": {"value": {"k": 1}, "type": "STRING"}}}}]}}',
    );
    expect(errors).toEqual([
      { field: 'workflow.steps[0].params.big.value', message: 'does not match type LONG: 9223372036854775808 is outside the 64-bit LONG range' },
      { field: 'workflow.steps[0].params.frac.value', message: 'does not match type LONG: expected a whole number (LONG), got the number 1.5' },
      { field: 'workflow.steps[0].params.arr.value', message: 'does not match type LONG_ARRAY: element [1]: expected a whole number (LONG), got the string "x"' },
      { field: 'workflow.steps[0].params.flag.value', message: 'does not match type BOOLEAN: expected true or false (BOOLEAN), got the string "yes"' },
      { field: 'workflow.steps[0].params.map.value', message: 'does not match type STRING_MAP: key "k": expected a string, got an array' },
      { field: 'workflow.steps[0].params.str.value', message: 'does not match type STRING: expected a string, got an object' },
    ]);
    const ok = parseWorkflowJson('{"workflow": {"id": "wf", "steps": [{"step": {"id": "a", "type": "NoOp", "params": {"ok": {"value": 9223372036854775807, "type": "LONG"}}}}]}}');
    expect(ok.ok && ok.value.workflow.steps[0]?.params.ok?.value).toBe(9223372036854775807n);
  });
});

describe('validation', () => {
  it('accepts a small valid workflow', () => {
    expect(validationErrors(request([step('a', { b: 'true' }), step('b')]))).toEqual([]);
  });

  it('finds unknown successors, including ids of another scope', () => {
    const errors = validationErrors(
      request([
        step('job.1', { 'job.2': 'true' }),
        step('job.2', { 'job.9': 'true', inner: 'true' }),
        { foreach: { id: 'loop', params: { loop_params: { value: { i: { value: [1], type: 'LONG_ARRAY' } }, type: 'MAP' } }, steps: [step('inner')] } },
      ]),
    );
    expect(errors).toEqual([
      { field: 'workflow.steps[1].transition.successors.job.9', message: 'unknown step id' },
      { field: 'workflow.steps[1].transition.successors.inner', message: 'unknown step id: "inner" is at workflow.steps[2].steps[0], outside this step\'s scope' },
    ]);
  });

  it('names the cycle', () => {
    const errors = validationErrors(request([step('a', { b: 'true' }), step('b', { c: 'true' }), step('c', { a: 'true', d: 'true' }), step('d'), step('e', { e: 'true' })]));
    expect(errors).toEqual([
      { field: 'workflow.steps[4].transition.successors.e', message: 'step "e" cannot be its own successor' },
      { field: 'workflow.steps[2].transition.successors.a', message: 'cycle: a → b → c → a' },
    ]);
  });

  it('finds cycles inside loops', () => {
    const errors = validationErrors(
      request([{ while: { id: 'w', condition: 'i < 3', params: { loop_params: { value: { i: { value: 0, type: 'LONG' } }, type: 'MAP' } }, steps: [step('x', { y: 'true' }), step('y', { x: 'true' })] } }]),
    );
    expect(errors).toEqual([{ field: 'workflow.steps[0].steps[1].transition.successors.x', message: 'cycle: x → y → x' }]);
  });

  it('finds duplicate ids across nested scopes', () => {
    const errors = validationErrors(
      request([
        step('a'),
        { foreach: { id: 'loop', params: { loop_params: { value: { i: { value: [1], type: 'LONG_ARRAY' } }, type: 'MAP' } }, steps: [step('a'), step('loop')] } },
      ]),
    );
    expect(errors).toEqual([
      { field: 'workflow.steps[1].steps[0].id', message: 'duplicate step id "a" (first used at workflow.steps[0])' },
      { field: 'workflow.steps[1].steps[1].id', message: 'duplicate step id "loop" (first used at workflow.steps[1])' },
    ]);
  });

  it('checks ids, reserved param names, limits and shapes', () => {
    const errors = validationErrors(
      request(
        [
          step('bad id!'),
          step('a__b'),
          step('ok', {}, { params: { step_id: { value: 'x', type: 'STRING' }, 'not-ident': { value: 1, type: 'LONG' } }, retry_policy: { error_retry_limit: 500, backoff: { type: 'FIXED_BACKOFF', error_retry_exponent: 2 } } }),
          { subworkflow: { id: 'sub', params: { subworkflow_id: { value: 'child', type: 'STRING' }, subworkflow_version: { value: 'newest', type: 'STRING' } } } },
        ],
        { id: 'x'.repeat(129), time_triggers: [{ type: 'CRON', cron: '* *', timezone: 'Mars/Olympus' }, { type: 'PREDEFINED', expression: '@sometimes' }] },
        { owner: 'o', run_strategy: { rule: 'sequential', workflow_concurrency: 3 } },
      ),
    );
    expect(errors).toEqual([
      { field: 'properties.run_strategy.workflow_concurrency', message: 'must be 1 for run strategy SEQUENTIAL; only PARALLEL runs several instances at once' },
      { field: 'workflow.id', message: 'workflow id is 129 characters long; the limit is 128' },
      { field: 'workflow.time_triggers[0].timezone', message: 'unknown time zone "Mars/Olympus"' },
      { field: 'workflow.time_triggers[0].cron', message: '"* *" has too few fields: expected 5 (Unix) or 6-7 (Quartz with seconds)' },
      { field: 'workflow.time_triggers[1].expression', message: 'must be one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, got "@sometimes"' },
      { field: 'workflow.steps[0].id', message: `step id "bad id!" may only contain letters, digits, '_', '.' and '-', and must not start with '.' or '-'` },
      { field: 'workflow.steps[1].id', message: 'step id "a__b" must not contain "__" (it separates step id and param name in ${step__param})' },
      { field: 'workflow.steps[2].params.step_id', message: '"step_id" is reserved: Baton sets it for every run' },
      { field: 'workflow.steps[2].params.not-ident', message: `param name "not-ident" must start with a letter or '_' and contain only letters, digits and '_'` },
      { field: 'workflow.steps[2].retry_policy.error_retry_limit', message: 'must be between 0 and 99, got 500' },
      { field: 'workflow.steps[2].retry_policy.backoff.error_retry_exponent', message: 'is only used by EXPONENTIAL_BACKOFF' },
      { field: 'workflow.steps[3].params.subworkflow_version.value', message: 'must be "latest", "active", "default" or a version number, got "newest"' },
    ]);
  });

  it('enforces the step limit, counting nested steps', () => {
    const many = Array.from({ length: 5 }, (_, i) => step(`s${i}`));
    const nested = { foreach: { id: 'loop', params: { loop_params: { value: { i: { value: [1], type: 'LONG_ARRAY' } }, type: 'MAP' } }, steps: [step('in1'), step('in2')] } };
    expect(validationErrors(request([...many, nested]), { maxSteps: 7 })).toEqual([{ field: 'workflow.steps', message: 'has 8 steps (counting nested ones); the limit is 7' }]);
    expect(validationErrors(request([...many, nested]), { maxSteps: 8 })).toEqual([]);
    const big = Array.from({ length: 301 }, (_, i) => step(`s${i}`));
    expect(validationErrors(request(big))).toEqual([{ field: 'workflow.steps', message: 'has 301 steps (counting nested ones); the limit is 300' }]);
  });

  it('reports SEL syntax and type errors with line and column', () => {
    const errors = validationErrors(
      request([
        step('a', { b: 'x > > 1' }, { params: { p: { expression: "String s = 'a';\nint x = 'b';", type: 'STRING' } } }),
        step('b'),
      ]),
    );
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ field: 'workflow.steps[0].params.p.expression', line: 2 });
    expect(errors[0]?.message).toMatch(/^SEL type error at line 2, column \d+: /);
    expect(errors[1]).toMatchObject({ field: 'workflow.steps[0].transition.successors.b', line: 1 });
    expect(errors[1]?.message).toMatch(/^SEL syntax error at line 1, column \d+: /);
  });

  it('uses an injected SEL compiler, and can skip SEL', () => {
    const seen: string[] = [];
    const sel = {
      compile(source: string) {
        seen.push(source);
        return { errors: source.includes('bad') ? [{ kind: 'syntax', message: 'nope', line: 1, column: 2 }] : [] };
      },
    };
    const wf = request([step('a', { b: 'bad' }), step('b')]);
    expect(validationErrors(wf, { sel })).toEqual([{ field: 'workflow.steps[0].transition.successors.b', message: 'SEL syntax error at line 1, column 2: nope', line: 1, column: 2 }]);
    expect(seen).toEqual(['bad']);
    expect(validationErrors(wf, { sel: false })).toEqual([]);
  });
});

describe('checkWorkflowDefinition', () => {
  it('parses JSON or YAML and validates in one call', () => {
    const yaml = 'Workflow:\n  id: wf\n  jobs:\n    - job:\n        id: a\n        type: NoOp\n        transition: [b]\n';
    expect(checkWorkflowDefinition(yaml)).toEqual({ ok: false, errors: [{ field: 'workflow.steps[0].transition.successors.b', message: 'unknown step id', line: 7, column: 9 }] });
    const json = JSON.stringify(request([step('a')]));
    const ok = checkWorkflowDefinition(json);
    expect(ok.ok && ok.value.workflow.id).toBe('wf');
    expect(checkWorkflowDefinition('{"workflow": 1}')).toEqual({ ok: false, errors: [{ field: 'workflow', message: 'must be an object, got a number' }] });
  });
});
