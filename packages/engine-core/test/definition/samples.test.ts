import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorkflowJson, parseWorkflowYaml, requestToJson, stringifyJson, validateWorkflow, walkSteps, type Step } from '@baton/engine-core';
import { readSample, SAMPLES_DIR, sampleFiles } from './samples.js';

const jsonSamples = sampleFiles('.', '.json');
const requestFixtures = sampleFiles('fixtures/maestro-common/workflows/request', '.json');
const yamlSamples = sampleFiles('yaml', '.yaml');

describe('Maestro compatibility suite', () => {
  it('finds the samples', () => {
    expect(jsonSamples.length).toBeGreaterThanOrEqual(28);
    expect(yamlSamples.length).toBeGreaterThanOrEqual(2);
  });

  for (const file of [...jsonSamples, ...requestFixtures]) {
    it(`accepts ${path.relative(SAMPLES_DIR, file)}`, () => {
      const parsed = parseWorkflowJson(readSample(file));
      if (!parsed.ok) expect(parsed.errors).toEqual([]);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(validateWorkflow(parsed.value)).toEqual([]);
      // Serializing and parsing again gives the same model: nothing is lost, unknown fields included.
      const again = parseWorkflowJson(stringifyJson(requestToJson(parsed.value)));
      expect(again.ok && again.value).toEqual(parsed.value);
    });
  }

  for (const file of yamlSamples) {
    it(`accepts yaml/${path.basename(file)}`, () => {
      const parsed = parseWorkflowYaml(readSample(file));
      if (!parsed.ok) expect(parsed.errors).toEqual([]);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(validateWorkflow(parsed.value)).toEqual([]);
    });
  }
});

describe('what the samples mean', () => {
  const load = (name: string) => {
    const r = parseWorkflowJson(readSample(path.join(SAMPLES_DIR, name)));
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.value;
  };

  it('reads properties, run strategy forms and case-insensitive enums', () => {
    expect(load('sample-conditional-wf.json').properties).toEqual({ owner: 'tester', runStrategy: { rule: 'PARALLEL' }, stepConcurrency: 20 });
    expect(load('sample-dag-test-8.json').properties?.runStrategy).toEqual({ rule: 'PARALLEL', maxConcurrency: 5 });
    expect(load('sample-dag-test-7.json').properties?.runStrategy).toEqual({ rule: 'STRICT_SEQUENTIAL' });
    const s = load('sample-dag-test-7.json').workflow.steps[3];
    expect(s?.params.sleep_seconds).toEqual({ name: 'sleep_seconds', type: 'LONG', value: 15n });
    const d10 = load('sample-dag-test-10.json');
    expect(d10.properties?.extra?.alerting).toBeDefined();
    expect(d10.workflow.timeout).toEqual({ seconds: 100 });
    expect(d10.workflow.tags).toEqual([{ name: 'tester', namespace: 'system' }, { name: 'test' }, { name: 'foo' }]);
  });

  it('keeps templated timeouts and retry settings for the runtime', () => {
    const steps = load('sample-dag-test-10.json').workflow.steps;
    const job3 = steps.find((x) => x.id === 'job3');
    expect(job3?.kind).toBe('step');
    if (job3?.kind !== 'step') return;
    expect(job3.timeout).toEqual({ template: '${bar}s' });
    expect(job3.failureMode).toBe('FAIL_IMMEDIATELY');
    expect(job3.retryPolicy?.errorRetryLimit).toEqual({ template: '$foo' });
    expect(job3.retryPolicy?.backoff?.type).toBe('EXPONENTIAL_BACKOFF');
    expect(job3.retryPolicy?.backoff?.timeoutRetryExponent).toEqual({ template: '${bat}' });
    const job2 = load('sample-dag-test-2.json').workflow.steps[1];
    expect(job2?.timeout).toEqual({ seconds: 100 });
    expect(load('sample-dag-test-8.json').workflow.steps[0]?.timeout).toEqual({ template: '${base_workflow_timeout}' });
  });

  it('lifts loop params, while conditions and subworkflow ids out of params', () => {
    const fe = load('sample-nested-foreach-wf.json').workflow.steps[0];
    expect(fe?.kind).toBe('foreach');
    if (fe?.kind !== 'foreach') return;
    expect(fe.concurrency).toBe(2);
    expect(Object.keys(fe.loopParams)).toEqual(['i', 'j']);
    expect(fe.loopParams.i).toMatchObject({ type: 'LONG_ARRAY', value: [1n, 2n, 3n], mode: 'MUTABLE' });
    expect(fe.params.loop_params).toBeUndefined();
    expect(fe.params.param1).toEqual({ name: 'param1', type: 'STRING_ARRAY', value: ['a', 'b'] });
    const inner = fe.steps[0];
    expect(inner?.kind).toBe('foreach');
    const ids: string[] = [];
    walkSteps([fe], (st: Step) => ids.push(st.id));
    expect(ids).toEqual(['foreach-job', 'job1', 'job.1', 'job.2']);

    const wh = load('sample-while-wf.json').workflow.steps[0];
    expect(wh?.kind === 'while' && wh.condition).toBe('i <= 20200105');
    expect(wh?.kind === 'while' && wh.loopParams.i).toEqual({ name: 'i', type: 'LONG', value: 20200101n });

    const sub = load('sample-subworkflow-wf.json').workflow.steps;
    expect(sub[0]?.kind === 'subworkflow' && sub[0].subworkflowId.value).toBe('sample-dag-test-3');
    expect(sub[0]?.kind === 'subworkflow' && sub[0].subworkflowVersion?.value).toBe('latest');
    expect(sub[2]?.kind === 'subworkflow' && sub[2].sync).toBe(false);
    expect(sub[4]?.kind === 'subworkflow' && sub[4].explicitParams).toBe(true);
    expect(sub[0]?.params).toEqual({ param1: { name: 'param1', type: 'STRING_MAP', value: { foo: 'bar' } } });
  });

  it('reads triggers and signal hooks', () => {
    const tt = load('sample-time-trigger-wf.json').workflow.timeTriggers;
    expect(tt).toEqual([
      { type: 'CRON', cron: '0 0 12 1/1 * ? *', timezone: 'US/Pacific' },
      { type: 'PREDEFINED', expression: '@daily', timezone: 'Asia/Tokyo' },
      { type: 'CRON', cron: '*/2 * * * *', timezone: 'US/Pacific', fuzzyMaxDelay: { seconds: 30 } },
    ]);
    const wf = load('sample-signal-trigger-wf.json').workflow;
    expect(wf.signalTriggers[0]?.definitions.signal_a).toEqual({
      matchParams: { foo: { value: 'bat', operator: '=' }, watermark: { value: 12345, operator: '>=' } },
      joinKeys: ['updated_by'],
    });
    expect(wf.signalTriggers[0]?.condition).toBe('245 > 123');
    const job1 = wf.steps[0];
    expect(job1?.signalDependencies.map((d) => d.name)).toEqual(['db/test/table1', 'db/test/table2']);
    expect(job1?.signalDependencies[0]?.matchParams.vtts_utc_dateint?.operator).toBe('>=');
    expect(job1?.signalOutputs[0]).toEqual({
      name: 'dummy/test/signal1',
      params: { key1: { name: 'key1', type: 'STRING', value: 'v1' }, key2: { name: 'key2', type: 'LONG', value: 1n } },
    });
  });

  it('reads the YAML DSL: params, type hints, IF/OTHERWISE transitions, sequential dags', () => {
    const cond = parseWorkflowYaml(readSample(path.join(SAMPLES_DIR, 'yaml/sample-conditional-wf.yaml')));
    if (!cond.ok) throw new Error(JSON.stringify(cond.errors));
    const wf = cond.value.workflow;
    expect(cond.value.properties).toEqual({ owner: 'tester', runStrategy: { rule: 'PARALLEL' } });
    expect(wf.params.param0).toEqual({ name: 'param0', type: 'LONG', value: 15n });
    expect(wf.steps[2]?.transition.successors).toEqual({ 'job.4': 'param2 < 0', 'job.6': '!((param2 < 0))' });
    expect(wf.steps[4]?.transition.successors).toEqual({ 'job.6': "params.getFromStep('job.4', 'param3') > 0" });
    expect(wf.steps[6]?.params.param5).toEqual({ name: 'param5', type: 'STRING', expression: "params.get('param0')" });

    const http = parseWorkflowYaml(readSample(path.join(SAMPLES_DIR, 'yaml/sample-http-wf.yaml')));
    if (!http.ok) throw new Error(JSON.stringify(http.errors));
    const steps = http.value.workflow.steps;
    expect(steps.map((x) => Object.keys(x.transition.successors))).toEqual([['job.2'], ['job.3'], ['job.4'], ['job.5'], []]);
    const p = steps[0]?.params.http;
    expect(p?.type).toBe('MAP');
    expect(p?.value).toMatchObject({
      url: { type: 'STRING', value: 'http://localhost:8080/api/v3/workflows/actions/validate/yaml' },
      headers: { type: 'STRING_MAP', value: { 'Content-Type': 'application/yaml', Accept: 'application/json', user: 'tester' } },
      body: { type: 'STRING', value: '${wf_body}' },
    });
  });
});
