import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { sendJson } from './helpers/service-http.js';

/*
 * Maestro's YAML DSL pushed over POST /api/v3/workflows/yaml: workflow-level fields are kept as
 * fields (criticality, run strategy with workflow_concurrency, a job's type_version), foreach
 * `params`/`ranges` are the loop params the run iterates over, a `dag:` map wires the jobs, a
 * subworkflow is named by its job id; a bad document is a 400 naming the field and its line.
 */
const DSL = `Workflow:
  id: dsl-loops
  owner: tester
  run_strategy: parallel
  workflow_concurrency: 2
  criticality: high
  base: 100
  dag:
    start: [each]
    each:
      - IF base > 10 THEN dsl-child
      - OTHERWISE never
  jobs:
    - job:
        id: start
        type: noop
        type_version: v3
    - foreach:
        id: each
        params:
          day: [1, 2]
        ranges:
          hour: {from: 0, to: 6, increment: 2}
        jobs:
          - job:
              id: inner
              type: NoOp
              '!v<long>': "base + day * 10 + hour"
    - subworkflow:
        id: dsl-child
        explicit_params: true
    - job: {id: never, type: NoOp}
`;
const CHILD = 'Workflow:\n  id: dsl-child\n  owner: tester\n  jobs:\n    - job: {id: only, type: NoOp}\n';

const sendYaml = (s: ServiceApp, url: string, payload: string) => s.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/yaml' }, payload });

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`Maestro's YAML DSL over REST (${kind})`, () => {
    let s: ServiceApp;
    let database: Database | undefined;

    beforeAll(async () => {
      if (kind === 'postgres') {
        database = await createTestDatabase();
        s = await startServiceApp({}, new PgDb({ connectionString: database.url, max: 6 }));
      } else {
        s = await startServiceApp({});
      }
    }, 60_000);
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    it('stores the DSL fields as definition fields and runs the loop over params and ranges', async () => {
      expect((await sendYaml(s, '/api/v3/workflows/yaml', CHILD)).statusCode).toBe(200);
      const pushed = await sendYaml(s, '/api/v3/workflows/yaml', DSL);
      expect(pushed.statusCode, pushed.body).toBe(200);

      const got = (await sendJson(s, 'GET', '/api/v3/workflows/dsl-loops/versions/latest')).json() as {
        definition: { properties: Record<string, unknown>; workflow: { criticality: string; params: Record<string, unknown>; steps: Record<string, Record<string, unknown>>[] } };
      };
      const { properties, workflow } = got.definition;
      expect(properties).toMatchObject({ owner: 'tester', run_strategy: { rule: 'PARALLEL', workflow_concurrency: 2 } });
      expect(workflow.criticality).toBe('HIGH');
      expect(Object.keys(workflow.params)).toEqual(['base']);
      expect(workflow.steps[0]?.step).toMatchObject({ id: 'start', type: 'NoOp', type_version: 'v3', transition: { successors: { each: 'true' } } });
      expect(workflow.steps[1]?.foreach).toMatchObject({
        transition: { successors: { 'dsl-child': 'base > 10', never: '!((base > 10))' } },
        params: { loop_params: { type: 'MAP', value: { day: { type: 'LONG_ARRAY', value: [1, 2] }, hour: { type: 'LONG_ARRAY', expression: 'Util.intsBetween(0, 6, 2);' } } } },
      });
      expect(workflow.steps[2]?.subworkflow).toMatchObject({ explicit_params: true, params: { subworkflow_id: { type: 'STRING', value: 'dsl-child' } } });

      const started = await sendJson(s, 'POST', '/api/v3/workflows/dsl-loops/versions/active/actions/start', {});
      expect(started.statusCode, started.body).toBeLessThan(300);
      const iid = (started.json() as { workflow_instance_id: number }).workflow_instance_id;
      const deadline = Date.now() + 30_000;
      let run: { status: string; steps?: { step_id: string; status: string }[] };
      do {
        await new Promise((r) => setTimeout(r, 100));
        run = (await sendJson(s, 'GET', `/api/v3/workflows/dsl-loops/instances/${iid}/runs/latest`)).json() as typeof run;
      } while (!['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(run.status) && Date.now() < deadline);
      expect(run.status, JSON.stringify(run)).toBe('SUCCEEDED');
      expect(run.steps?.find((x) => x.step_id === 'dsl-child')?.status).toBe('SUCCEEDED');
      expect(run.steps?.find((x) => x.step_id === 'never')?.status).not.toBe('SUCCEEDED');
      const inner = await s.db.query<{ v: string }>(
        `SELECT a.params->'v'->>'value' AS v FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
          WHERE a.step_id = 'inner' AND position('dsl-loops' in i.workflow_id) = 1 ORDER BY 1`,
      );
      // day × hour: 2 × {0, 2, 4}
      expect(inner.rows.map((x) => Number(x.v)).sort((a, b) => a - b)).toEqual([110, 112, 114, 120, 122, 124]);
    });

    it('refuses bad DSL with a 400 naming the field and its line, storing nothing', async () => {
      const bad = DSL.replace("'!v<long>': \"base + day * 10 + hour\"", "'v<long>': \"ten\"").replace('id: dsl-loops', 'id: dsl-bad');
      const r = await sendYaml(s, '/api/v3/workflows/yaml', bad);
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      const problem = r.json() as { errors: { field: string; message: string }[] };
      expect(problem.errors).toEqual([
        { field: 'Workflow.jobs[1].foreach.jobs[0].job.v<long>', message: 'the type LONG given for param v does not match its value, a STRING (line 28, column 15)' },
      ]);
      expect((await sendJson(s, 'GET', '/api/v3/workflows/dsl-bad/versions/latest')).statusCode).toBe(404);
    });
  });
}
