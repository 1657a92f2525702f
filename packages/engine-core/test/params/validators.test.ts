import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWorkflowDefinition } from '../../src/definition/parse.js';
import type { ParamValue } from '../../src/definition/model.js';
import { annotationValidatorProblem, runParamsFailure, validatorFailure } from '../../src/params/validators.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { selExpressionPort } from '../../src/runtime/sel-port.js';
import { StartError } from '../../src/runtime/start.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { assertTimelinesMonotone, testEngine, workflow } from '../runtime/support/engine.js';
import { loadSample } from '../runtime/support/samples.js';

const sel = selExpressionPort(() => []);
const check = (validator: string, value: ParamValue): Promise<string | undefined> => validatorFailure(sel, validator, value);

describe('annotation validators', () => {
  it('@NotNull, @NotEmpty and @NotBlank', async () => {
    expect(await check('@NotNull', 'x')).toBeUndefined();
    expect(await check('@NotEmpty', 'x')).toBeUndefined();
    expect(await check('@NotEmpty', '')).toBe('value "" fails validator "@NotEmpty": must not be empty');
    expect(await check('@NotEmpty', [])).toMatch(/must not be empty/);
    expect(await check('@NotEmpty', {})).toMatch(/must not be empty/);
    expect(await check('@NotEmpty', { a: 'b' })).toBeUndefined();
    expect(await check('@NotEmpty', 5n)).toMatch(/@NotEmpty applies to strings, arrays and maps/);
    expect(await check('@NotBlank', '  ')).toMatch(/must not be blank/);
    expect(await check('@NotBlank', ' a ')).toBeUndefined();
  });

  it('signs, @Min and @Max on LONG (exactly, beyond 2^53) and DOUBLE', async () => {
    expect(await check('@Positive', 1n)).toBeUndefined();
    expect(await check('@Positive', 0n)).toBe('value 0 fails validator "@Positive": must be greater than 0');
    expect(await check('@PositiveOrZero', 0n)).toBeUndefined();
    expect(await check('@Negative', -0.5)).toBeUndefined();
    expect(await check('@NegativeOrZero', 0.1)).toMatch(/less than or equal to 0/);
    expect(await check('@Min(0)', -1n)).toMatch(/must be greater than or equal to 0/);
    expect(await check('@Min(value = 10)', 10n)).toBeUndefined();
    expect(await check('@Max(9007199254740993)', 9007199254740994n)).toMatch(/less than or equal to 9007199254740993/);
    expect(await check('@Max(9007199254740993)', 9007199254740993n)).toBeUndefined();
    expect(await check('@Max(2.5)', 2.4)).toBeUndefined();
    expect(await check('@Min(1)', 'x')).toMatch(/@Min applies to numbers/);
  });

  it('@Size and @Pattern, and several annotations in one validator', async () => {
    expect(await check('@Size(min = 2, max = 3)', ['a'])).toMatch(/size must be between 2 and 3, is 1/);
    expect(await check('@Size(min=2)', 'abc')).toBeUndefined();
    expect(await check('@Size(max = 1)', { a: 'x', b: 'y' })).toMatch(/size must be at most 1, is 2/);
    expect(await check('@Pattern("[a-z]+_\\d{2}")', 'ab_12')).toBeUndefined();
    // The whole value must match, as in Bean Validation.
    expect(await check('@Pattern(regexp = "[a-z]+")', 'ab1')).toMatch(/must match \[a-z\]\+/);
    // Java syntax, on a linear-time engine: a hostile value cannot make the check backtrack.
    expect(await check('@Pattern("\\p{Alpha}+")', 'abC')).toBeUndefined();
    const t = performance.now();
    expect(await check('@Pattern("(a|aa)*(\\w|\\d)+b")', `${'a'.repeat(100_000)}!`)).toMatch(/must match/);
    expect(performance.now() - t).toBeLessThan(2000);
    expect(await check('@NotNull @Positive, @Max(10)', 11n)).toMatch(/"@NotNull @Positive, @Max\(10\)": must be less than or equal to 10/);
    expect(await check('@NotNull @Positive, @Max(10)', 3n)).toBeUndefined();
  });

  it('reports unknown annotations, bad arguments and annotations that cannot apply to the type', async () => {
    expect(annotationValidatorProblem('@NotNull', 'STRING')).toBeUndefined();
    expect(annotationValidatorProblem('@Email', 'STRING')).toMatch(/^unknown validator annotation @Email; supported: @NotNull, @NotEmpty/);
    expect(annotationValidatorProblem('@Min', 'LONG')).toBe('@Min needs one number, as in @Min(10)');
    expect(annotationValidatorProblem('@Min(x)', 'LONG')).toBe('@Min needs one number, as in @Min(10)');
    expect(annotationValidatorProblem('@NotNull(1)', 'LONG')).toBe('@NotNull takes no arguments');
    expect(annotationValidatorProblem('@Size(3)', 'STRING')).toMatch(/@Size takes min and\/or max by name/);
    expect(annotationValidatorProblem('@Size(min = 3, max = 1)', 'STRING')).toBe('@Size min 3 is greater than max 1');
    expect(annotationValidatorProblem('@Pattern("(")', 'STRING')).toMatch(/^@Pattern: regex '\(' is invalid: unclosed group/);
    expect(annotationValidatorProblem('@Pattern("(a)\\1")', 'STRING')).toMatch(/^@Pattern: regex '\(a\)\\1': a back reference \(\\1\) at index 3 is not supported/);
    expect(annotationValidatorProblem('@Positive', 'STRING')).toBe('@Positive does not apply to a STRING param (it applies to LONG, DOUBLE)');
    expect(annotationValidatorProblem('@NotEmpty x', 'STRING')).toMatch(/expected an annotation such as @NotNull/);
    expect(annotationValidatorProblem('@', 'STRING')).toMatch(/an annotation name must follow '@'/);
  });
});

describe('SEL validators', () => {
  it('true passes; false, an error or a non-boolean fails with the value and the validator', async () => {
    expect(await check('param > 0 && param < 100', 50n)).toBeUndefined();
    expect(await check('param > 0 && param < 100', 150n)).toBe('value 150 fails validator "param > 0 && param < 100"');
    expect(await check('param.length() > 3', 'ab')).toBe('value "ab" fails validator "param.length() > 3"');
    expect(await check('param / 0 > 1', 5n)).toMatch(/^value 5 fails validator "param \/ 0 > 1": .*zero/i);
    expect(await check('param + 1', 5n)).toBe('value 5 fails validator "param + 1": a validator must evaluate to true or false, got 6');
  });

  it("reads Maestro's `param.size()` on an array param as its length", async () => {
    expect(await check('param!=null && param.size() > 2', ['a', 'b', 'c'])).toBeUndefined();
    expect(await check('param!=null && param.size() > 2', [1n, 2n])).toBe('value [1,2] fails validator "param!=null && param.size() > 2"');
  });

  it('checks only the run params that a definition validates', async () => {
    const defs = { n: { name: 'n', type: 'LONG' as const, value: 1n, validator: '@Positive' }, s: { name: 's', type: 'STRING' as const, value: 'x' } };
    expect(await runParamsFailure(undefined, defs, { n: { value: 2n }, s: { value: '' }, other: { value: -1n } })).toBeUndefined();
    expect(await runParamsFailure(sel, defs, { n: { value: -2n } })).toBe('param n: value -2 fails validator "@Positive": must be greater than 0');
    // A validator reading other params waits for the run, where they are known.
    const relative = { n: { name: 'n', type: 'LONG' as const, value: 1n, validator: 'param <= cap' } };
    expect(await runParamsFailure(sel, relative, { n: { value: 99n } })).toBeUndefined();
    expect(await validatorFailure(sel, 'param <= cap', 99n, undefined, (name) => (name === 'cap' ? 10n : undefined))).toBe('value 99 fails validator "param <= cap"');
  });
});

describe('validators in definition validation', () => {
  const definition = (validator: string, type = 'LONG') =>
    JSON.stringify({ workflow: { id: 'v', params: { p: { value: type === 'LONG' ? 1 : 'x', type, validator } }, steps: [{ step: { id: 's', type: 'NoOp' } }] } });

  it('accepts known annotations and SEL, rejects unknown annotations and SEL syntax errors with the field', async () => {
    expect(checkWorkflowDefinition(definition('@NotNull @Min(0)')).ok).toBe(true);
    expect(checkWorkflowDefinition(definition('param > 0')).ok).toBe(true);
    const unknown = checkWorkflowDefinition(definition('@Email', 'STRING'));
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) {
      expect(unknown.errors[0]?.field).toBe('workflow.params.p.validator');
      expect(unknown.errors[0]?.message).toMatch(/unknown validator annotation @Email; supported: /);
    }
    const misfit = checkWorkflowDefinition(definition('@NotBlank'));
    expect(misfit.ok).toBe(false);
    if (!misfit.ok) expect(misfit.errors[0]?.message).toBe('@NotBlank does not apply to a LONG param (it applies to STRING)');
    const syntax = checkWorkflowDefinition(definition('param >'));
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.errors[0]?.message).toMatch(/SEL syntax error/);
  });
});

describe('validators at run time on PGlite', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  const defs = new InMemoryDefinitions();

  beforeAll(async () => {
    t = await openTestDb('pglite');
    defs.add(
      workflow({
        workflow: {
          id: 'percent',
          params: {
            pct: { value: 50, type: 'LONG', validator: 'param > 0 && param < 100' },
            label: { value: 'ok', type: 'STRING', validator: '@NotBlank' },
          },
          steps: [{ step: { id: 's', type: 'NoOp' } }],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'relative',
          params: { cap: { value: 10, type: 'LONG' }, n: { value: 5, type: 'LONG', validator: 'param <= cap' } },
          steps: [{ step: { id: 's', type: 'NoOp' } }],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'bad-default',
          params: { n: { expression: '1 - 2', type: 'LONG', validator: '@Positive' } },
          steps: [{ step: { id: 's', type: 'NoOp' } }],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'step-params',
          params: { size: { value: 3, type: 'LONG' } },
          steps: [
            {
              step: {
                id: 's',
                type: 'NoOp',
                // A user error is retried by error_retry_limit only when the runtime reports it;
                // a param that fails its validator never reaches the runtime.
                retry_policy: { error_retry_limit: 2, backoff: { type: 'fixed_backoff', error_retry_backoff_in_secs: 1 } },
                params: { doubled: { expression: 'size * 2', type: 'LONG', validator: '@Max(10)' } },
              },
            },
          ],
        },
      }),
    );
    defs.add(
      workflow({
        workflow: {
          id: 'loop',
          params: { days: { value: [1, 2, 3], type: 'LONG_ARRAY' } },
          steps: [
            {
              foreach: {
                id: 'each',
                params: { loop_params: { type: 'MAP', value: { d: { expression: 'days', type: 'LONG_ARRAY', validator: 'param.size() >= 3' } } } },
                steps: [{ step: { id: 'inner', type: 'NoOp' } }],
              },
            },
          ],
        },
      }),
    );
    ({ engine, errors } = testEngine(t.db, defs));
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  const reason = async (workflowId: string, instanceId: number) =>
    (await t.db.query<{ reason: string | null }>('SELECT reason FROM baton_workflow_instances WHERE workflow_id = $1 AND instance_id = $2', [workflowId, instanceId])).rows[0]?.reason;
  const step = async (workflowId: string, instanceId: number, stepId: string) =>
    (
      await t.db.query<{ attempt_id: number; status: string; reason: string | null }>(
        `SELECT a.attempt_id, a.status, a.reason FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = $1 AND i.instance_id = $2 AND a.step_id = $3 ORDER BY a.attempt_id`,
        [workflowId, instanceId, stepId],
      )
    ).rows;

  it('a start request whose run params fail a validator is refused, and no instance is created', async () => {
    const refused = engine.startWorkflow({ workflowId: 'percent', params: { pct: 150 } });
    await expect(refused).rejects.toBeInstanceOf(StartError);
    await expect(refused).rejects.toMatchObject({
      code: 'invalid_params',
      message: 'param pct: value 150 fails validator "param > 0 && param < 100"',
    });
    await expect(engine.startWorkflow({ workflowId: 'percent', params: { label: ' ' } })).rejects.toThrow(
      'param label: value " " fails validator "@NotBlank": must not be blank',
    );
    const count = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id = 'percent'`);
    expect(count.rows[0]?.n).toBe(0);
  });

  it('valid run params and defaults start and run', async () => {
    const a = await engine.startWorkflow({ workflowId: 'percent', params: { pct: 99 } });
    expect(await engine.waitForInstance('percent', a.workflowInstanceId)).toBe('SUCCEEDED');
    const b = await engine.startWorkflow({ workflowId: 'percent' });
    expect(await engine.waitForInstance('percent', b.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('a workflow param whose evaluated default fails its validator fails the run with the reason', async () => {
    const s = await engine.startWorkflow({ workflowId: 'bad-default' });
    expect(await engine.waitForInstance('bad-default', s.workflowInstanceId)).toBe('FAILED');
    expect(await reason('bad-default', s.workflowInstanceId)).toBe('workflow params: param n: value -1 fails validator "@Positive": must be greater than 0');
    // A run param that passes replaces the default, and the run goes ahead.
    const ok = await engine.startWorkflow({ workflowId: 'bad-default', params: { n: 4 } });
    expect(await engine.waitForInstance('bad-default', ok.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('a SEL validator may read other params: checked when the run evaluates them', async () => {
    const bad = await engine.startWorkflow({ workflowId: 'relative', params: { n: 20 } });
    expect(await engine.waitForInstance('relative', bad.workflowInstanceId)).toBe('FAILED');
    expect(await reason('relative', bad.workflowInstanceId)).toBe('workflow params: param n: value 20 fails validator "param <= cap"');
    const good = await engine.startWorkflow({ workflowId: 'relative', params: { n: 20, cap: 30 } });
    expect(await engine.waitForInstance('relative', good.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('a step param that fails its validator fails the step as a user error, without retries', async () => {
    const bad = await engine.startWorkflow({ workflowId: 'step-params', params: { size: 6 } });
    expect(await engine.waitForInstance('step-params', bad.workflowInstanceId)).toBe('FAILED');
    expect(await step('step-params', bad.workflowInstanceId, 's')).toEqual([
      { attempt_id: 1, status: 'USER_FAILED', reason: 'param doubled: value 12 fails validator "@Max(10)": must be less than or equal to 10' },
    ]);
    const good = await engine.startWorkflow({ workflowId: 'step-params', params: { size: 5 } });
    expect(await engine.waitForInstance('step-params', good.workflowInstanceId)).toBe('SUCCEEDED');
  });

  it('a foreach loop param that fails its validator fails the foreach step before any iteration', async () => {
    const bad = await engine.startWorkflow({ workflowId: 'loop', params: { days: [1, 2] } });
    expect(await engine.waitForInstance('loop', bad.workflowInstanceId)).toBe('FAILED');
    expect(await step('loop', bad.workflowInstanceId, 'each')).toEqual([
      { attempt_id: 1, status: 'USER_FAILED', reason: 'param d: value [1,2] fails validator "param.size() >= 3"' },
    ]);
    const iterations = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id LIKE 'loop#%'`);
    expect(iterations.rows[0]?.n).toBe(0);
    const good = await engine.startWorkflow({ workflowId: 'loop' });
    expect(await engine.waitForInstance('loop', good.workflowInstanceId)).toBe('SUCCEEDED');
    const ran = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id LIKE 'loop#%'`);
    expect(ran.rows[0]?.n).toBe(3);
  });

  it('keeps every timeline monotone, with no handler errors', async () => {
    await assertTimelinesMonotone(t.db);
    expect(errors).toEqual([]);
  });
});

describe("Maestro's samples and the validator modes", () => {
  let t: TestDb;
  const defs = new InMemoryDefinitions();

  beforeAll(async () => {
    t = await openTestDb('pglite');
    defs.add(loadSample('sample-nested-foreach-wf'));
    defs.add(workflow({ workflow: { id: 'pct', params: { pct: { value: 50, type: 'LONG', validator: 'param > 0 && param < 100' } }, steps: [{ step: { id: 's', type: 'NoOp' } }] } }));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('enforced (the default): sample-nested-foreach-wf fails where its own validator refuses `j` = ["a","b"]', async () => {
    const { engine, errors } = testEngine(t.db, defs, { timeScale: 0.0005 });
    await engine.start();
    try {
      const s = await engine.startWorkflow({ workflowId: 'sample-nested-foreach-wf' });
      expect(await engine.waitForInstance('sample-nested-foreach-wf', s.workflowInstanceId, 30_000)).toBe('FAILED');
      const failed = await t.db.query<{ step_id: string; status: string; reason: string }>(
        `SELECT a.step_id, a.status, a.reason FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
         WHERE i.workflow_id = 'sample-nested-foreach-wf' AND i.instance_id = $1`,
        [s.workflowInstanceId],
      );
      expect(failed.rows).toEqual([
        { step_id: 'foreach-job', status: 'USER_FAILED', reason: 'param j: value ["a","b"] fails validator "param!=null && param.size() > 2"' },
      ]);
      expect(errors).toEqual([]);
    } finally {
      await engine.stop();
    }
  });

  it("ignored (Maestro's behaviour): the same sample succeeds and a run param breaking its validator is accepted", async () => {
    const { engine, errors } = testEngine(t.db, defs, { timeScale: 0.0005, paramValidators: 'ignore' });
    await engine.start();
    try {
      const s = await engine.startWorkflow({ workflowId: 'sample-nested-foreach-wf' });
      expect(await engine.waitForInstance('sample-nested-foreach-wf', s.workflowInstanceId, 30_000)).toBe('SUCCEEDED');
      const p = await engine.startWorkflow({ workflowId: 'pct', params: { pct: 150 } });
      expect(await engine.waitForInstance('pct', p.workflowInstanceId)).toBe('SUCCEEDED');
      expect(errors).toEqual([]);
    } finally {
      await engine.stop();
    }
  });
});
