import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { sendJson } from './helpers/service-http.js';

/*
 * Maestro: workflow params read the signals that triggered the run, through
 * `params.getFromSignal(signal, param)` and through `<signal>__<param>` references in SEL and in
 * `${...}` interpolation (ParamEvaluator: a `__` reference that names no param of the workflow,
 * nor at step level a step of the workflow, is the param of a triggering signal). Steps, loop
 * params and steps inside foreach iterations read the same signals.
 */
const SIGNAL = 'orders_ready';

const workflow = {
  properties: { owner: 'alice' },
  workflow: {
    id: 'sig-params',
    signal_triggers: [{ definitions: { [SIGNAL]: { match_params: {}, join_keys: [] } } }],
    params: {
      by_call: { expression: `params.getFromSignal('${SIGNAL}', 'count') + 1`, type: 'LONG' },
      by_ref: { expression: `${SIGNAL}__count * 2`, type: 'LONG' },
      by_text: { value: `count \${${SIGNAL}__count} from \${${SIGNAL}__region}`, type: 'STRING' },
      nested: { type: 'MAP', value: { region: { expression: `${SIGNAL}__region`, type: 'STRING' } } },
    },
    steps: [
      {
        step: {
          id: 'first',
          type: 'NoOp',
          params: {
            from_step: { expression: `${SIGNAL}__count + by_call`, type: 'LONG' },
            text: { value: `\${${SIGNAL}__region}-\${first__from_step}`, type: 'STRING' },
          },
          transition: { successors: { loop: 'true' } },
        },
      },
      {
        foreach: {
          id: 'loop',
          params: { loop_params: { type: 'MAP', value: { i: { expression: `Util.intsBetween(0, ${SIGNAL}__count / 10, 1);`, type: 'LONG_ARRAY' } } } },
          steps: [{ step: { id: 'inner', type: 'NoOp', params: { v: { expression: `params.getFromSignal('${SIGNAL}', 'count') * 100 + i`, type: 'LONG' } } } }],
        },
      },
    ],
  },
};

interface Run {
  status: string;
  reason?: string;
  params?: Record<string, { value: unknown }>;
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`workflow params read the triggering signals (${kind})`, () => {
    let s: ServiceApp;
    let database: Database | undefined;

    beforeAll(async () => {
      if (kind === 'postgres') {
        database = await createTestDatabase();
        s = await startServiceApp({}, new PgDb({ connectionString: database.url, max: 6 }));
      } else {
        s = await startServiceApp({});
      }
      const r = await sendJson(s, 'POST', '/api/v3/workflows', workflow);
      expect(r.statusCode, r.body).toBeLessThan(300);
    }, 60_000);
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    const run = async (iid: number): Promise<Run> => (await sendJson(s, 'GET', `/api/v3/workflows/sig-params/instances/${iid}/runs/latest`)).json() as Run;
    const ended = async (iid: number): Promise<Run> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await run(iid);
        if (['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(r.status)) return r;
        if (Date.now() > deadline) throw new Error(`sig-params/${iid} is still ${r.status}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    };

    it('a run started by the signal evaluates getFromSignal, <signal>__<param> and ${<signal>__<param>} at workflow, step and loop level', async () => {
      await s.services.signals.publish([{ name: SIGNAL, params: { count: 20n, region: 'eu' } }]);
      const deadline = Date.now() + 20_000;
      while ((await sendJson(s, 'GET', '/api/v3/workflows/sig-params/instances/1/runs/latest')).statusCode !== 200) {
        if (Date.now() > deadline) throw new Error('the signal did not start a run');
        await new Promise((res) => setTimeout(res, 50));
      }
      const r = await ended(1);
      expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
      expect(r.params?.by_call?.value).toBe(21);
      expect(r.params?.by_ref?.value).toBe(40);
      expect(r.params?.by_text?.value).toBe('count 20 from eu');
      expect(r.params?.nested?.value).toEqual({ region: 'eu' });
      const first = await s.db.query<{ from_step: string; text: string }>(
        `SELECT a.params->'from_step'->>'value' AS from_step, a.params->'text'->>'value' AS text
           FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
          WHERE i.workflow_id = 'sig-params' AND i.instance_id = 1 AND a.step_id = 'first'`,
      );
      expect(first.rows).toEqual([{ from_step: '41', text: 'eu-41' }]);

      // Each foreach iteration (an inline run of its own) reads the signals of the run it belongs to.
      const inner = await s.db.query<{ v: string }>(
        `SELECT a.params->'v'->>'value' AS v FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
          WHERE a.step_id = 'inner' AND position('sig-params' in i.workflow_id) = 1 ORDER BY 1`,
      );
      expect(inner.rows.map((x) => Number(x.v))).toEqual([2000, 2001]);
    });

    it('a manually started run that reads a signal fails with a reason naming the signal', async () => {
      const started = await sendJson(s, 'POST', '/api/v3/workflows/sig-params/versions/active/actions/start', {});
      expect(started.statusCode, started.body).toBeLessThan(300);
      const iid = (started.json() as { workflow_instance_id: number }).workflow_instance_id;
      const r = await ended(iid);
      expect(r.status).toBe('FAILED');
      expect(r.reason).toMatch(/^workflow params: param by_\w+: .*orders_ready/);
    });
  });
}
