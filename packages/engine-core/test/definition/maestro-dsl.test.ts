import { describe, expect, it } from 'vitest';
import { parseWorkflowJson, parseWorkflowYaml, requestToJson, validateWorkflow, type WorkflowRequest, type YamlParseOptions } from '@baton/engine-core';

/*
 * Maestro's DSL module (Netflix/maestro, maestro-dsl, Apache-2.0): each fixture parses to the
 * definition Maestro's own tests expect (WorkflowParserTest, ParamParserTest,
 * TransitionParserTest, WorkflowDslTest). The expectations are written here from those tests.
 */

// Test data: maestro-dsl/src/test/resources/fixtures/sample-dsl-wf-1.yaml from Netflix/maestro
// (commit 55562899c3c1), Apache License 2.0, unchanged.
const SAMPLE_DSL_WF_1 = `workflow:
  id: sample-dsl-wf-1
  name: Sample Workflow DSL Example 1
  description: A comprehensive example workflow demonstrating Maestro DSL
  owner: tester
  run_strategy: parallel
  workflow_concurrency: 5
  tags:
    - example
  timeout: 2h
  '!month': "new DateTime(1569018000000).withZone(DateTimeZone.forID('UTC')).monthOfYear().getAsText();"
  data_source: s3://my-bucket/raw-data
  output_path: s3://my-bucket/processed-data
  '!partition_count<long>(constant)': "1+9"
  criticality: CRITICAL
  jobs:
    - job:
        id: extract_data
        name: Extract Data from Source
        description: Extract raw data from the data lake using Spark
        type: spark
        type_version: v1
        timeout: 30min
    - foreach:
        id: process_partitions
        name: Process Data Partitions
        description: Iterate over each data partition and process independently
        params:
          date: [20200101, 20200102, 20200103]
        ranges:
          hour:
            from: 0
            to: 24
        foo: bar
        jobs:
          - while:
              id: retry_failed_partitions
              name: Retry Failed Partitions
              description: Keep retrying failed partitions until success or max attempts
              timeout: 1h
              params:
                attempt_cnt: 1
              condition: "attempt_cnt < 10"
              foo: bar
              jobs:
                - job:
                    id: process_data
                    name: Process Data from Source
                    type: shell
                    transition:
                      - IF foo == 'bar' THEN validation_workflow
                - subworkflow:
                    id: validation_workflow
                    name: Data Validation Pipeline
                    description: Run comprehensive data validation checks as a subworkflow
                    version: default
                    explicit_params: true
                    foo: bar
              dag: sequential
        dag: parallel
  dag:
    extract_data:
      - IF partition_count > 0 Then process_partitions
`;

/** The resolver of Maestro's WorkflowParserTest: job templates spark and shell. */
const testResolver: YamlParseOptions['stepTypeResolver'] = (type) => (type === 'spark' ? 'Notebook' : type === 'shell' ? 'Kubernetes' : undefined);

function parse(text: string, opts: YamlParseOptions = {}): WorkflowRequest {
  const r = parseWorkflowYaml(text, opts);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

function errorsOf(text: string, opts: YamlParseOptions = {}) {
  const r = parseWorkflowYaml(text, opts);
  expect(r.ok, 'the document should be refused').toBe(false);
  return r.ok ? [] : r.errors;
}

const wfWith = (body: string) => `Workflow:\n  id: wf\n${body}\n  jobs:\n    - job: {id: a, type: NoOp}\n`;

describe("Maestro's DSL fixture sample-dsl-wf-1.yaml (WorkflowParserTest.testWorkflowParser)", () => {
  const r = parse(SAMPLE_DSL_WF_1, { stepTypeResolver: testResolver });
  const wf = r.workflow;

  it('maps workflow-level fields to the workflow and its properties, not to params', () => {
    expect(r.isActive).toBeUndefined(); // Maestro's default: the pushed version becomes active
    expect(r.properties?.runStrategy).toEqual({ rule: 'PARALLEL', maxConcurrency: 5 });
    expect(r.properties?.owner).toBe('tester');
    expect(wf.id).toBe('sample-dsl-wf-1');
    expect(wf.name).toBe('Sample Workflow DSL Example 1');
    expect(wf.description).toBe('A comprehensive example workflow demonstrating Maestro DSL');
    expect(wf.timeout).toEqual({ seconds: 7200 });
    expect(wf.tags).toEqual([{ name: 'example' }]);
    expect(wf.extra).toEqual({ criticality: 'CRITICAL' });
    expect(Object.keys(wf.params)).toEqual(['month', 'data_source', 'output_path', 'partition_count']);
    expect(wf.params.month).toEqual({ name: 'month', type: 'STRING', expression: "new DateTime(1569018000000).withZone(DateTimeZone.forID('UTC')).monthOfYear().getAsText();" });
    expect(wf.params.data_source).toEqual({ name: 'data_source', type: 'STRING', value: 's3://my-bucket/raw-data' });
    expect(wf.params.output_path).toEqual({ name: 'output_path', type: 'STRING', value: 's3://my-bucket/processed-data' });
    expect(wf.params.partition_count).toEqual({ name: 'partition_count', type: 'LONG', expression: '1+9', mode: 'CONSTANT' });
  });

  it('resolves job types, keeps type_version and takes the dag map transition', () => {
    expect(wf.steps).toHaveLength(2);
    const step1 = wf.steps[0]!;
    expect(step1).toMatchObject({ kind: 'step', id: 'extract_data', name: 'Extract Data from Source', type: 'Notebook', subType: 'spark', timeout: { seconds: 1800 } });
    expect(step1.extra).toEqual({ type_version: 'v1' });
    expect(step1.transition.successors).toEqual({ process_partitions: 'partition_count > 0' });
  });

  it('reads foreach params and ranges as loop params, other keys as step params', () => {
    const step2 = wf.steps[1]!;
    expect(step2.kind).toBe('foreach');
    if (step2.kind !== 'foreach') return;
    expect(step2).toMatchObject({ id: 'process_partitions', name: 'Process Data Partitions' });
    expect(step2.loopParams).toEqual({
      date: { name: 'date', type: 'LONG_ARRAY', value: [20200101n, 20200102n, 20200103n] },
      hour: { name: 'hour', type: 'LONG_ARRAY', expression: 'Util.intsBetween(0, 24, 1);' },
    });
    expect(step2.params).toEqual({ foo: { name: 'foo', type: 'STRING', value: 'bar' } });
    expect(step2.transition.successors).toEqual({});
    expect(step2.steps).toHaveLength(1);

    const step3 = step2.steps[0]!;
    expect(step3.kind).toBe('while');
    if (step3.kind !== 'while') return;
    expect(step3).toMatchObject({ id: 'retry_failed_partitions', name: 'Retry Failed Partitions', timeout: { seconds: 3600 }, condition: 'attempt_cnt < 10' });
    expect(step3.loopParams).toEqual({ attempt_cnt: { name: 'attempt_cnt', type: 'LONG', value: 1n } });
    expect(step3.params).toEqual({ foo: { name: 'foo', type: 'STRING', value: 'bar' } });
    expect(step3.transition.successors).toEqual({});
    expect(step3.steps).toHaveLength(2);

    const [step4, step5] = step3.steps;
    expect(step4).toMatchObject({ kind: 'step', id: 'process_data', name: 'Process Data from Source', type: 'Kubernetes', subType: 'shell' });
    // The job's own transition; `dag: sequential` would have given the same successor unconditionally.
    expect(step4?.transition.successors).toEqual({ validation_workflow: "foo == 'bar'" });
    expect(step5?.kind).toBe('subworkflow');
    if (step5?.kind !== 'subworkflow') return;
    expect(step5).toMatchObject({ id: 'validation_workflow', name: 'Data Validation Pipeline', explicitParams: true });
    expect(step5.subworkflowId).toEqual({ name: 'subworkflow_id', type: 'STRING', value: 'validation_workflow' });
    expect(step5.subworkflowVersion).toEqual({ name: 'subworkflow_version', type: 'STRING', value: 'default' });
    expect(step5.params).toEqual({ foo: { name: 'foo', type: 'STRING', value: 'bar' } });
    expect(step5.transition.successors).toEqual({});
  });

  it('is a valid definition, and reads the same back from its JSON (WorkflowDslTest round trip)', () => {
    expect(validateWorkflow(r)).toEqual([]);
    const again = parseWorkflowJson(requestToJson(r));
    expect(again.ok && again.value).toEqual(r);
  });

  it('without a resolver keeps the job type as written (Baton runs types by name)', () => {
    const plain = parse(SAMPLE_DSL_WF_1).workflow.steps[0]!;
    expect(plain).toMatchObject({ kind: 'step', type: 'spark' });
    expect(plain.kind === 'step' && plain.subType).toBeUndefined();
  });

  it('refuses a dag map naming a job that is not in the list (testWorkflowParserForDagWithNonexistingJobId)', () => {
    const text = SAMPLE_DSL_WF_1.replace('  dag:\n    extract_data:', '  dag:\n    foo: [bar]\n    extract_data:');
    expect(errorsOf(text)).toEqual([
      { field: 'workflow.dag.foo', message: 'names job foo, which is not a job of this list (jobs: extract_data, process_partitions)', line: 62, column: 5 },
    ]);
  });

  it('passes type_version to the resolver (testTypeVersionResolution)', () => {
    const resolver: YamlParseOptions['stepTypeResolver'] = (type, version) => (type === 'shell' && version === 'v2' ? 'Notebook' : type === 'shell' ? 'Kubernetes' : undefined);
    const text = SAMPLE_DSL_WF_1.replace('type: spark\n        type_version: v1', 'type: shell\n        type_version: v2');
    const steps = parse(text, { stepTypeResolver: resolver }).workflow.steps;
    expect(steps[0]).toMatchObject({ type: 'Notebook', subType: 'shell' });
    const inner = steps[1]?.kind === 'foreach' && steps[1].steps[0]?.kind === 'while' ? steps[1].steps[0].steps[0] : undefined;
    expect(inner).toMatchObject({ type: 'Kubernetes', subType: 'shell' });
  });
});

describe('the other DslWorkflow and job fields', () => {
  it('reads loop aliases, ranges with from/increment, while dags and subworkflows named by job id', () => {
    const wf = parse(`Workflow:
  id: wf
  run_strategy: sequential
  criticality: low
  jobs:
    - foreach:
        id: each
        job_concurrency: 3
        loop_params:
          '!day<array<long>>': "Util.intsBetween(1, 3, 1)"
        ranges:
          down: {from: 10, to: 0, increment: -5}
        jobs:
          - job: {id: inner, type: noop}
    - while:
        id: again
        condition: "i < 3"
        loop_params: {i: 0}
        dag: sequential
        jobs:
          - job: {id: w1, type: NoOp}
          - job: {id: w2, type: NoOp}
    - subworkflow:
        id: child-wf
        sync: false
        subworkflow_version: 2
    - subworkflow:
        id: other
        subworkflow_id: named-wf
`).workflow;
    const [each, again, child, other] = wf.steps;
    expect(wf.extra).toEqual({ criticality: 'LOW' });
    expect(each?.kind === 'foreach' && each.concurrency).toBe(3);
    expect(each?.kind === 'foreach' && each.loopParams).toEqual({
      day: { name: 'day', type: 'LONG_ARRAY', expression: 'Util.intsBetween(1, 3, 1)' },
      down: { name: 'down', type: 'LONG_ARRAY', expression: 'Util.intsBetween(10, 0, -5);' },
    });
    expect(each?.kind === 'foreach' && each.steps[0]).toMatchObject({ type: 'NoOp' }); // Maestro's step type names, any case
    expect(again?.kind === 'while' && again.loopParams).toEqual({ i: { name: 'i', type: 'LONG', value: 0n } });
    expect(again?.kind === 'while' && again.steps.map((s) => s.transition.successors)).toEqual([{ w2: 'true' }, {}]);
    expect(child).toMatchObject({ kind: 'subworkflow', sync: false, subworkflowId: { value: 'child-wf' }, subworkflowVersion: { type: 'STRING', value: '2' } });
    expect(other).toMatchObject({ kind: 'subworkflow', subworkflowId: { value: 'named-wf' } });
    expect(other?.kind === 'subworkflow' && other.subworkflowVersion).toBeUndefined();
  });

  it('applies workflow_concurrency without run_strategy to PARALLEL (Maestro would drop it)', () => {
    expect(parse(wfWith('  workflow_concurrency: 3')).properties?.runStrategy).toEqual({ rule: 'PARALLEL', maxConcurrency: 3 });
  });

  it('names each wrong field with its line', () => {
    expect(errorsOf(wfWith('  criticality: urgent'))).toEqual([{ field: 'Workflow.criticality', message: 'must be one of CRITICAL, HIGH, MEDIUM, LOW, got "urgent"', line: 3, column: 3 }]);
    expect(errorsOf(wfWith('  workflow_concurrency: many'))).toEqual([{ field: 'Workflow.workflow_concurrency', message: 'must be a whole number, got "many"', line: 3, column: 3 }]);
    // Found by the JSON reader after the rewrite, still placed in the document.
    expect(errorsOf(wfWith('  run_strategy: sometimes'))).toEqual([
      { field: 'properties.run_strategy', message: expect.stringMatching(/^must be one of SEQUENTIAL, .*got "sometimes"$/), line: 3, column: 3 },
    ]);
    expect(errorsOf(wfWith('  timeout: 5 fortnights'))[0]).toMatchObject({ field: 'workflow.timeout', line: 3, column: 3 });
    const loop = `Workflow:
  id: wf
  jobs:
    - foreach:
        id: each
        job_params: {a: 1}
        ranges:
          h: {from: 1}
          z: {to: 5, increment: 0}
        jobs:
          - job: {id: inner, type: NoOp}
`;
    expect(errorsOf(loop)).toEqual([
      { field: 'Workflow.jobs[0].foreach.job_params', message: 'is a reserved field: write job params as keys of the job', line: 6, column: 9 },
      { field: 'Workflow.jobs[0].foreach.ranges.h.to', message: 'is required: where the range ends (exclusive)', line: 8, column: 11 },
      { field: 'Workflow.jobs[0].foreach.ranges.z.increment', message: 'must not be 0', line: 9, column: 22 },
    ]);
  });
});
