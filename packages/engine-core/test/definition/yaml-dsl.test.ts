import { describe, expect, it } from 'vitest';
import { parseWorkflowYaml, validateWorkflow } from '@baton/engine-core';

function parse(text: string) {
  const r = parseWorkflowYaml(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

describe('YAML DSL', () => {
  it('reads loops, typed expressions, triggers and activation', () => {
    const r = parse(`
Workflow:
  id: wf
  owner: team
  step_concurrency: 4
  time_trigger_disabled: true
  is_active: false
  timeout: 1h 30m
  time_triggers:
    - type: CRON
      cron: "0 3 * * *"
      timezone: Europe/Berlin
  '!today<string>': "TARGET_RUN_DATE"
  days<long[]>: [1, 2, 3]
  ratio: 0.5
  labels: {a: x, b: y}
  jobs:
    - foreach:
        id: each-day
        concurrency: 2
        'loop_params<pmap>':
          day: [20240101, 20240102]
          '!hour<long_array>': "Util.intsBetween(0, 2, 1)"
        jobs:
          - job:
              id: work
              type: Sleep
              sleep_seconds: 1
        transition:
          - done
    - subworkflow:
        id: child
        sync: true
        subworkflow_id: other-wf
        transition: [done]
    - job:
        id: done
        type: NoOp
`);
    expect(r.isActive).toBe(false);
    expect(r.properties).toEqual({ owner: 'team', stepConcurrency: 4, timeTriggerDisabled: true });
    const wf = r.workflow;
    expect(wf.timeout).toEqual({ seconds: 5400 });
    expect(wf.timeTriggers).toEqual([{ type: 'CRON', cron: '0 3 * * *', timezone: 'Europe/Berlin' }]);
    expect(wf.params).toEqual({
      today: { name: 'today', expression: 'TARGET_RUN_DATE', type: 'STRING' },
      days: { name: 'days', type: 'LONG_ARRAY', value: [1n, 2n, 3n] },
      ratio: { name: 'ratio', type: 'DOUBLE', value: 0.5 },
      labels: { name: 'labels', type: 'STRING_MAP', value: { a: 'x', b: 'y' } },
    });
    const [each, child, done] = wf.steps;
    expect(each?.kind).toBe('foreach');
    if (each?.kind === 'foreach') {
      expect(each.concurrency).toBe(2);
      expect(each.loopParams).toEqual({
        day: { name: 'day', type: 'LONG_ARRAY', value: [20240101n, 20240102n] },
        hour: { name: 'hour', type: 'LONG_ARRAY', expression: 'Util.intsBetween(0, 2, 1)' },
      });
      expect(each.steps[0]).toMatchObject({ id: 'work', type: 'Sleep', params: { sleep_seconds: { type: 'LONG', value: 1n } } });
      expect(each.transition.successors).toEqual({ done: 'true' });
    }
    expect(child?.kind === 'subworkflow' && child.subworkflowId).toEqual({ name: 'subworkflow_id', type: 'STRING', value: 'other-wf' });
    expect(done?.id).toBe('done');
    expect(validateWorkflow(r)).toEqual([]);
  });

  it('combines IF branches, OTHERWISE and sequential chaining', () => {
    const wf = parse(`
Workflow:
  id: wf
  dag: sequential
  jobs:
    - job: {id: a, type: NoOp}
    - job:
        id: b
        type: NoOp
        transition:
          - IF x > 1 THEN c
          - if x < -1 then c
          - If x == 0 Then d
          - OTHERWISE e
    - job: {id: c, type: NoOp}
    - job: {id: d, type: NoOp}
    - job: {id: e, type: NoOp}
`).workflow;
    expect(wf.steps.map((s) => s.transition.successors)).toEqual([
      { b: 'true' },
      { c: '(x > 1) || (x < -1)', d: 'x == 0', e: '!((x > 1) || (x < -1) || (x == 0))' },
      { d: 'true' },
      { e: 'true' },
      {},
    ]);
  });

  it('keeps 64-bit integers exact', () => {
    const wf = parse('Workflow:\n  id: wf\n  big: 9223372036854775807\n  jobs:\n    - job: {id: a, type: NoOp}\n').workflow;
    expect(wf.params.big?.value).toBe(9223372036854775807n);
  });

  it('explains documents that are not workflows', () => {
    expect(parseWorkflowYaml('just text')).toEqual({ ok: false, errors: [{ field: 'Workflow', message: 'the document must be a map with a "Workflow:" key holding the workflow', line: 1, column: 1 }] });
    const r = parseWorkflowYaml('Workflow:\n  id: wf\n  dag: zigzag\n  jobs:\n    - task: {id: a}\n    - job: {id: b, type: NoOp, "!p": [1]}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toEqual([
        { field: 'Workflow.dag', message: 'must be "sequential", "parallel" or a map of job id → transition, got "zigzag"', line: 3, column: 3 },
        { field: 'Workflow.jobs[0]', message: 'unknown job kind "task"; use job, foreach, while or subworkflow', line: 5, column: 7 },
        { field: 'Workflow.jobs[1].job.!p', message: 'a "!" param is a SEL expression and must be a string, got a list', line: 6, column: 32 },
      ]);
    }
    const dup = parseWorkflowYaml('Workflow:\n  id: a\n  id: b\n');
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.errors[0]).toMatchObject({ message: expect.stringMatching(/unique/i), line: 3 });
  });
});
