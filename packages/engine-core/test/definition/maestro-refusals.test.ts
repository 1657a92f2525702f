import { describe, expect, it } from 'vitest';
import { parseWorkflowJson, validateWorkflow, type DefinitionIssue } from '@baton/engine-core';

/*
 * What Maestro refuses at push, written from its constraint classes and their tests
 * (SignalTriggerConstraintTest, SignalDependenciesDefinitionConstraintTest,
 * SignalOutputsDefinitionConstraintTest, MaestroIdConstraintTest, MaestroReferenceIdConstraintTest,
 * TimeTriggerConstraintTest; SignalMatchParamDef's builder check; Constants' limits).
 */
const step = { step: { id: 'a', type: 'NoOp' } };

function issues(workflow: Record<string, unknown>): DefinitionIssue[] {
  const parsed = parseWorkflowJson({ properties: { owner: 'tester' }, workflow: { id: 'wf', steps: [step], ...workflow } } as never);
  if (!parsed.ok) return parsed.errors;
  return validateWorkflow(parsed.value, { sel: false });
}

const trigger = (definitions: Record<string, unknown>) => ({ signal_triggers: [{ definitions }] });

describe("what Maestro refuses at push", () => {
  it('accepts up to 8 signals in one trigger and refuses a 9th', () => {
    const names = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`signal_${i}`, {}]));
    expect(issues(trigger(names(8)))).toEqual([]);
    expect(issues(trigger(names(9)))).toEqual([
      { field: 'workflow.signal_triggers[0].definitions', message: "names 9 signals; a signal trigger may join at most 8 (Maestro's limit)" },
    ]);
  });

  it('refuses a join key that is also a match param of the same signal', () => {
    expect(issues(trigger({ a: { join_keys: ['foo'], match_params: { bar: { value: 123, operator: '=' } } } }))).toEqual([]);
    expect(issues(trigger({ a: { join_keys: ['bar'], match_params: { bar: { value: 123, operator: '=' } } } }))).toEqual([
      { field: 'workflow.signal_triggers[0].definitions.a.join_keys[0]', message: 'join key "bar" is also a match param of signal a; a param is either joined on or matched, not both (Maestro)' },
    ]);
  });

  it('refuses trigger match values that are neither strings nor whole numbers', () => {
    const got = issues(trigger({ a: { match_params: { ok: { value: 'x', operator: '=' }, flag: { value: true, operator: '=' }, d: { value: 1.5, operator: '>' } } } }));
    expect(got.map((i) => i.field)).toEqual(['workflow.signal_triggers[0].definitions.a.match_params.flag.value', 'workflow.signal_triggers[0].definitions.a.match_params.d.value']);
    expect(got[0]!.message).toBe('must be a string or a whole number (signal params are LONG or STRING), got boolean true');
  });

  const dependency = (matchParams: Record<string, unknown>) => ({
    steps: [{ step: { id: 'a', type: 'NoOp', signal_dependencies: [{ name: 'db/table', match_params: matchParams }] } }],
  });

  it('refuses a second range param in one signal dependency, naming both', () => {
    const one = { p1: { param: { value: 5, type: 'LONG' }, operator: '>' }, p2: { param: { value: 'x', type: 'STRING' }, operator: '=' } };
    expect(issues(dependency(one))).toEqual([]);
    const two = { p1: { param: { value: 5, type: 'LONG' }, operator: '>' }, p2: { param: { value: 9, type: 'LONG' }, operator: '<=' } };
    expect(issues(dependency(two))).toEqual([
      {
        field: 'workflow.steps[0].signal_dependencies[0].match_params.p2.operator',
        message: 'signal dependency on db/table has more than one range param: p1 and p2; Maestro allows one range (<, <=, >, >=) per dependency',
      },
    ]);
  });

  it('refuses BOOLEAN (and any other non LONG/STRING) match params', () => {
    expect(issues(dependency({ ready: { param: { value: true, type: 'BOOLEAN' }, operator: '=' } }))).toEqual([
      {
        field: 'workflow.steps[0].signal_dependencies[0].match_params.ready.param.type',
        message: 'a signal match param must be LONG or STRING (signal params are indexed as one or the other), got BOOLEAN',
      },
    ]);
    expect(issues(dependency({ ratio: { param: { value: 0.5, type: 'DOUBLE' }, operator: '=' } }))[0]?.message).toMatch(/got DOUBLE$/);
  });

  it('refuses empty signal_dependencies and signal_outputs lists (leaving them out is fine)', () => {
    const got = issues({ steps: [{ step: { id: 'a', type: 'NoOp', signal_dependencies: [], signal_outputs: [] } }] });
    expect(got).toEqual([
      { field: 'workflow.steps[0].signal_dependencies', message: 'must not be an empty list (Maestro refuses it): leave the field out, or name at least one signal' },
      { field: 'workflow.steps[0].signal_outputs', message: 'must not be an empty list (Maestro refuses it): leave the field out, or name at least one signal' },
    ]);
  });

  it("refuses step ids with Maestro's reserved prefix, in any case, also inside loops; and reserved workflow ids", () => {
    expect(issues({ steps: [{ step: { id: 'maestro_start', type: 'NoOp' } }] })).toEqual([
      { field: 'workflow.steps[0].id', message: 'step id "maestro_start" must not start with "maestro_" (reserved by Maestro)' },
    ]);
    const nested = issues({ steps: [{ foreach: { id: 'loop', params: { loop_params: { type: 'MAP', value: { x: { value: [1], type: 'LONG_ARRAY' } } } }, steps: [{ step: { id: 'MAESTRO_x', type: 'NoOp' } }] } }] });
    expect(nested.map((i) => i.field)).toEqual(['workflow.steps[0].steps[0].id']);
    expect(issues({ id: 'maestro_wf' }).map((i) => i.message)).toEqual(['workflow id "maestro_wf" must not start with "maestro_" (reserved by Maestro)']);
    expect(issues({ id: 'wf_MAESTRO' }).map((i) => i.message)).toEqual(['workflow id "wf_MAESTRO" must not end with "_maestro" (reserved by Maestro)']);
    // Only a prefix is reserved for steps.
    expect(issues({ steps: [{ step: { id: 'my_maestro_step', type: 'NoOp' } }] })).toEqual([]);
  });

  it("refuses workflow and step names over Maestro's 256 characters", () => {
    expect(issues({ name: 'n'.repeat(256), steps: [{ step: { id: 'a', type: 'NoOp', name: 's'.repeat(256) } }] })).toEqual([]);
    expect(issues({ name: 'n'.repeat(257), steps: [{ step: { id: 'a', type: 'NoOp', name: 's'.repeat(300) } }] })).toEqual([
      { field: 'workflow.name', message: "workflow name is 257 characters long; the limit is 256 (Maestro's)" },
      { field: 'workflow.steps[0].name', message: "step name is 300 characters long; the limit is 256 (Maestro's)" },
    ]);
  });

  it('refuses INTERVAL time triggers (Maestro computes fire times for CRON and PREDEFINED only)', () => {
    expect(issues({ time_triggers: [{ type: 'INTERVAL', interval: '3H', start: '2021-03-26 16:00:18.089PST' }] })).toEqual([
      {
        field: 'workflow.time_triggers[0].type',
        message: 'INTERVAL time triggers cannot fire: Maestro refuses them at push too (it computes fire times for CRON and PREDEFINED only); write the interval "3H" as a CRON trigger',
      },
    ]);
  });
});
