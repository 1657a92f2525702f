import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { loadServiceSettings } from '../src/service-config.js';
import { StartupError } from '../src/startup-error.js';
import { repoRoot } from './helpers/baton-process.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { sendJson } from './helpers/service-http.js';

/*
 * Push-time checks Maestro makes: the dry run of workflow and step params (DryRunValidator,
 * ParamEvaluator, MaestroParamExtension's dry-run answers for signals) and the model constraints
 * it refuses definitions with. Every refusal is a 400 naming the field; nothing is stored; the
 * validate route says the same.
 */
const SIGNAL = 'orders_ready';
const owner = { owner: 'tester' };

interface Problem {
  errors?: { field: string; message: string }[];
}

const samplesDir = path.resolve(repoRoot, '../shared/maestro-samples');

describe('BATON_REQUIRE_OWNER', () => {
  it("is on unless set to 0 (Maestro's rule by default; 0 is the opt-out)", () => {
    expect(loadServiceSettings({}, tmpdir()).requireOwner).toBe(true);
    expect(loadServiceSettings({ BATON_REQUIRE_OWNER: '1' }, tmpdir()).requireOwner).toBe(true);
    expect(loadServiceSettings({ BATON_REQUIRE_OWNER: '0' }, tmpdir()).requireOwner).toBe(false);
    expect(loadServiceSettings({ BATON_REQUIRE_OWNER: 'false' }, tmpdir()).requireOwner).toBe(false);
    expect(() => loadServiceSettings({ BATON_REQUIRE_OWNER: 'maybe' }, tmpdir())).toThrow(StartupError);
  });
});

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`push-time checks (${kind})`, () => {
    let s: ServiceApp;
    let database: Database | undefined;

    beforeAll(async () => {
      const env = {};
      if (kind === 'postgres') {
        database = await createTestDatabase();
        s = await startServiceApp(env, new PgDb({ connectionString: database.url, max: 6 }));
      } else {
        s = await startServiceApp(env);
      }
    }, 60_000);
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    /** Pushes, expects a 400, checks that validate reports the same errors and that nothing was stored. */
    const refused = async (workflow: Record<string, unknown>, properties: object | null = owner): Promise<Problem['errors']> => {
      const body = properties ? { properties, workflow } : { workflow };
      const r = await sendJson(s, 'POST', '/api/v3/workflows', body);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      const errors = (r.json() as Problem).errors;
      const v = await sendJson(s, 'POST', '/api/v3/workflows/validate', body);
      expect(v.json()).toEqual({ valid: false, errors });
      expect((await sendJson(s, 'GET', `/api/v3/workflows/${String(workflow.id)}/versions/latest`)).statusCode).toBe(404);
      return errors;
    };
    const accepted = async (workflow: Record<string, unknown>, properties: object | null = owner): Promise<void> => {
      const body = properties ? { properties, workflow } : { workflow };
      const v = await sendJson(s, 'POST', '/api/v3/workflows/validate', body);
      expect(v.json(), v.body).toMatchObject({ valid: true });
      const r = await sendJson(s, 'POST', '/api/v3/workflows', body);
      expect(r.statusCode, r.body).toBeLessThan(300);
    };

    it('refuses a workflow param that cannot evaluate, naming the param and the error', async () => {
      const errors = await refused({
        id: 'dry-bad-wf',
        params: { ok: { value: 3, type: 'LONG' }, bad: { expression: 'ok + nowhere', type: 'LONG' } },
        steps: [{ step: { id: 'a', type: 'NoOp' } }],
      });
      expect(errors).toHaveLength(1);
      expect(errors![0]!.field).toBe('workflow.params.bad');
      expect(errors![0]!.message).toMatch(/^dry run: param bad: /);
    });

    it('refuses a step param that cannot evaluate; validators are left to the run, as Maestro never checks them at push', async () => {
      const errors = await refused({
        id: 'dry-bad-step',
        params: { n: { value: 2, type: 'LONG' } },
        steps: [{ step: { id: 'a', type: 'NoOp', params: { half: { expression: 'n / 0', type: 'LONG' } } } }],
      });
      expect(errors?.map((e) => e.field)).toEqual(['workflow.steps[0].params.half']);
      expect(errors![0]!.message).toMatch(/^dry run: param half: /);

      await accepted({ id: 'dry-validator', params: { days: { value: 0, type: 'LONG', validator: 'param > 0' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] });
    });

    it('evaluates with sample values for what only a run has: run time, ids, signals of the triggers, FROM_DATE', async () => {
      await accepted({
        id: 'dry-samples',
        params: {
          FROM_DATE: { value: 'not a date', type: 'STRING' },
          from: { expression: 'Long.parseLong(FROM_DATE) + 1', type: 'LONG' },
          day: { expression: 'TARGET_RUN_DATE + "-" + workflow_instance_id', type: 'STRING' },
          count: { expression: `params.getFromSignal('${SIGNAL}', 'count') + 1`, type: 'LONG' },
          region: { value: `\${${SIGNAL}__region}`, type: 'STRING' },
        },
        signal_triggers: [{ definitions: { [SIGNAL]: {} } }],
        steps: [
          { step: { id: 'a', type: 'NoOp', params: { v: { expression: 'count * 2 + from', type: 'LONG' } } } },
          // Reads another step's runtime output: only a run can tell, so the push does not judge it.
          { step: { id: 'b', type: 'NoOp', params: { w: { expression: 'a__produced + 1', type: 'LONG' } } } },
        ],
      });
      // Which signals start a run is known only when one does: a run no signal started fails then.
      await accepted({
        id: 'dry-no-trigger',
        params: { c: { expression: "params.getFromSignal('other_signal', 'count') * 2", type: 'LONG' }, d: { expression: 'other_signal__day', type: 'STRING' } },
        steps: [{ step: { id: 'a', type: 'NoOp' } }],
      });
    });

    it('refuses a MAP entry that reads a sibling entry (entries resolve against the workflow params)', async () => {
      const errors = await refused({
        id: 'dry-map-sibling',
        params: { cfg: { type: 'MAP', value: { a: { value: 1, type: 'LONG' }, b: { expression: 'a + 1', type: 'LONG' } } } },
        steps: [{ step: { id: 'a', type: 'NoOp' } }],
      });
      expect(errors?.map((e) => e.field)).toEqual(['workflow.params.cfg']);
      expect(errors![0]!.message).toMatch(/^dry run: param cfg: param b: /);
    });

    it("refuses what Maestro's model refuses, each naming the field", async () => {
      const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`s${i}`, {}]));
      const errors = await refused({
        id: 'refused-model',
        time_triggers: [{ type: 'INTERVAL', interval: '3H' }],
        signal_triggers: [{ definitions: nine }, { definitions: { s: { join_keys: ['k'], match_params: { k: { value: 1, operator: '=' } } } } }],
        steps: [
          {
            step: {
              id: 'maestro_a',
              type: 'NoOp',
              signal_outputs: [],
              signal_dependencies: [{ name: 'dep', match_params: { f: { param: { value: true, type: 'BOOLEAN' }, operator: '=' }, x: { param: { value: 1, type: 'LONG' }, operator: '>' }, y: { param: { value: 2, type: 'LONG' }, operator: '<' } } }],
            },
          },
        ],
      });
      // The list's shape problem (an empty signal_outputs) is found first; fix it to see the rest.
      expect(errors?.map((e) => e.field)).toEqual(['workflow.steps[0].signal_outputs']);
      const rest = await refused({
        id: 'refused-model',
        time_triggers: [{ type: 'INTERVAL', interval: '3H' }],
        signal_triggers: [{ definitions: nine }, { definitions: { s: { join_keys: ['k'], match_params: { k: { value: 1, operator: '=' } } } } }],
        steps: [
          {
            step: {
              id: 'maestro_a',
              type: 'NoOp',
              signal_dependencies: [{ name: 'dep', match_params: { f: { param: { value: true, type: 'BOOLEAN' }, operator: '=' }, x: { param: { value: 1, type: 'LONG' }, operator: '>' }, y: { param: { value: 2, type: 'LONG' }, operator: '<' } } }],
            },
          },
        ],
      });
      expect(rest?.map((e) => e.field).sort()).toEqual(
        [
          'workflow.time_triggers[0].type',
          'workflow.signal_triggers[0].definitions',
          'workflow.signal_triggers[1].definitions.s.join_keys[0]',
          'workflow.steps[0].id',
          'workflow.steps[0].signal_dependencies[0].match_params.f.param.type',
          'workflow.steps[0].signal_dependencies[0].match_params.y.operator',
        ].sort(),
      );
    });

    it("refuses cron spacing under Maestro's minute by default", async () => {
      const errors = await refused({ id: 'fast-cron', time_triggers: [{ type: 'CRON', cron: '*/30 * * * * ?' }], steps: [{ step: { id: 'a', type: 'NoOp' } }] });
      expect(errors?.map((e) => e.field)).toEqual(['workflow.time_triggers[0].cron']);
      await accepted({ id: 'minute-cron', time_triggers: [{ type: 'CRON', cron: '* * * * *' }], steps: [{ step: { id: 'a', type: 'NoOp' } }] });
    });

    it('by default the first version needs properties.owner; later versions may leave properties out', async () => {
      const wf = { id: 'owned-later', steps: [{ step: { id: 'a', type: 'NoOp' } }] };
      const ownerMissing = {
        field: 'properties.owner',
        message:
          'is required for the first version of workflow owned-later: add "properties": {"owner": "<name>"} next to "workflow" in the request ' +
          '(Maestro refuses a workflow created without properties and an owner; later versions may leave it out)',
      };
      expect(await refused(wf, null)).toEqual([ownerMissing]);
      expect(await refused(wf, { step_concurrency: 2 })).toEqual([ownerMissing]);
      // A bare workflow (no request envelope) is a request without properties.
      const bare = await sendJson(s, 'POST', '/api/v3/workflows', wf);
      expect(bare.statusCode).toBe(400);
      expect((bare.json() as Problem).errors).toEqual([ownerMissing]);
      await accepted(wf);
      await accepted({ ...wf, description: 'second version' }, null);
      await accepted({ ...wf, description: 'third version' }, { step_concurrency: 3 });
      const latest = (await sendJson(s, 'GET', '/api/v3/workflows/owned-later/versions/latest')).json() as { workflow_version_id: number; definition: { properties: { owner?: unknown } } };
      expect(latest.workflow_version_id).toBe(3);
      expect(latest.definition.properties.owner).toBe('tester');
    });

    it("the YAML DSL's refusal says to add owner: to the workflow", async () => {
      const yaml = (owner: string) => `Workflow:\n  id: owned-yaml\n${owner}  jobs:\n    - job:\n        id: a\n        type: noop\n`;
      const post = (url: string, text: string) => s.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/yaml' }, payload: text });
      const r = await post('/api/v3/workflows/yaml', yaml(''));
      expect(r.statusCode, r.body).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((r.json() as Problem).errors).toEqual([
        {
          field: 'properties.owner',
          message:
            'is required for the first version of workflow owned-yaml: add `owner: <name>` to the workflow (next to its `id`) ' +
            '(Maestro refuses a workflow created without properties and an owner; later versions may leave it out)',
        },
      ]);
      expect((await post('/api/v3/workflows/validate/yaml', yaml(''))).json()).toMatchObject({ valid: false, errors: [{ field: 'properties.owner' }] });
      expect((await post('/api/v3/workflows/yaml', yaml('  owner: data-team\n'))).statusCode).toBe(200);
      expect((await post('/api/v3/workflows/yaml', yaml(''))).statusCode).toBe(200);
    });

    it("takes the owner in every shape Maestro's User reads: a name, {name, …}, even an empty name", async () => {
      const wf = (id: string) => ({ id, steps: [{ step: { id: 'a', type: 'NoOp' } }] });
      await accepted(wf('owner-string'), { owner: 'alice' });
      await accepted(wf('owner-object'), { owner: { name: 'alice', email: 'alice@example.com' } });
      await accepted(wf('owner-empty'), { owner: '' });
      await accepted(wf('owner-empty-name'), { owner: { name: '' } });
      expect(await refused(wf('owner-no-name'), { owner: { email: 'alice@example.com' } })).toEqual([{ field: 'properties.owner.name', message: 'is required' }]);
      expect((await refused(wf('owner-number'), { owner: 7 }))?.map((e) => e.field)).toEqual(['properties.owner']);
      expect((await refused(wf('owner-name-number'), { owner: { name: 7 } }))?.map((e) => e.field)).toEqual(['properties.owner.name']);
      // `"owner": null` is no owner, as in Maestro (Jackson leaves the field unset).
      expect((await refused(wf('owner-null'), { owner: null }))?.map((e) => e.field)).toEqual(['properties.owner']);
    });

    it('still pushes every Maestro sample whose step types this process runs', async () => {
      const files = [
        ...readdirSync(samplesDir).filter((f) => f.endsWith('.json')),
        ...readdirSync(path.join(samplesDir, 'yaml')).filter((f) => f.endsWith('.yaml')).map((f) => `yaml/${f}`),
      ];
      expect(files.length).toBeGreaterThanOrEqual(30);
      let pushed = 0;
      for (const f of files.sort()) {
        const text = readFileSync(path.join(samplesDir, f), 'utf8');
        const yaml = f.endsWith('.yaml');
        const r = await s.app.inject({ method: 'POST', url: yaml ? '/api/v3/workflows/yaml' : '/api/v3/workflows', headers: { 'content-type': yaml ? 'application/yaml' : 'application/json' }, payload: text });
        if (r.statusCode < 300) {
          pushed++;
          continue;
        }
        // Only steps of a type without a runtime here (Kubernetes, Notebook, ...) may stop a sample.
        const errors = (r.json() as Problem).errors ?? [];
        expect(errors.length, `${f}: ${r.body}`).toBeGreaterThan(0);
        for (const e of errors) expect(`${f}: ${e.field}: ${e.message}`).toMatch(/\.type: step '.*' has type .*(no runtime is registered|not a step type Baton knows)/);
      }
      expect(pushed).toBeGreaterThanOrEqual(20);
    });
  });

  describe(`BATON_REQUIRE_OWNER=0 (${kind}): the opt-out, a deviation from Maestro`, () => {
    let s: ServiceApp;
    let database: Database | undefined;

    beforeAll(async () => {
      const env = { BATON_REQUIRE_OWNER: '0' };
      if (kind === 'postgres') {
        database = await createTestDatabase();
        s = await startServiceApp(env, new PgDb({ connectionString: database.url, max: 4 }));
      } else {
        s = await startServiceApp(env);
      }
    }, 60_000);
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    it('pushes a first version without properties', async () => {
      const r = await sendJson(s, 'POST', '/api/v3/workflows', { workflow: { id: 'ownerless', steps: [{ step: { id: 'a', type: 'NoOp' } }] } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toMatchObject({ workflow_id: 'ownerless', workflow_version_id: 1, definition: { properties: {} } });
    });
  });
}
