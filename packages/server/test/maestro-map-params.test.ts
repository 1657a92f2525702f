import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { sendJson } from './helpers/service-http.js';

/*
 * Maestro's ParamEvaluator evaluates the entries of a MAP param against the params of the
 * enclosing level (the workflow's, or the step's and then the workflow's), never against sibling
 * entries; its LiteralEvaluator interpolates the keys and values of a STRING_MAP and the elements
 * of a STRING_ARRAY. A while loop's condition reads the triggering signals like its loop params.
 */
const SIGNAL = 'batch_ready';

const workflow = {
  properties: { owner: 'tester' },
  workflow: {
    id: 'map-params',
    params: {
      day: { value: '20240101', type: 'STRING' },
      limit: { value: 5, type: 'LONG' },
      region: { expression: `${SIGNAL}__region`, type: 'STRING' },
      cfg: {
        type: 'MAP',
        value: {
          // The top-level `limit` (5), not the sibling entry of the same name (999).
          doubled: { expression: 'limit * 2', type: 'LONG' },
          limit: { value: 999, type: 'LONG' },
          path: { value: 's3://bucket/${day}/${region}', type: 'STRING' },
          inner: { type: 'MAP', value: { tag: { expression: "region + '-' + day", type: 'STRING' } } },
        },
      },
      labels: { type: 'STRING_MAP', value: { '${region}_day': '${day}', fixed: 'x' } },
      paths: { type: 'STRING_ARRAY', value: ['/a/${day}', '/b'] },
    },
    signal_triggers: [{ definitions: { [SIGNAL]: {} } }],
    steps: [
      {
        step: {
          id: 'first',
          type: 'NoOp',
          params: {
            k: { expression: 'limit * 3', type: 'LONG' },
            // Step level: the step's own params first, then the workflow's.
            m: { type: 'MAP', value: { x: { expression: 'k + 1', type: 'LONG' }, d: { value: '${day}', type: 'STRING' } } },
          },
          transition: { successors: { loop: 'true' } },
        },
      },
      {
        while: {
          id: 'loop',
          condition: `i < params.getFromSignal('${SIGNAL}', 'count') && i < ${SIGNAL}__cap`,
          params: { loop_params: { type: 'MAP', value: { i: { value: 0, type: 'LONG' } } } },
          steps: [{ step: { id: 'add', type: 'NoOp', params: { i: { expression: 'i + 1', type: 'LONG' } } } }],
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
  describe(`MAP params and while conditions (${kind})`, () => {
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

    const ended = async (iid: number): Promise<Run> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await sendJson(s, 'GET', `/api/v3/workflows/map-params/instances/${iid}/runs/latest`);
        if (r.statusCode === 200) {
          const run = r.json() as Run;
          if (['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(run.status)) return run;
        }
        if (Date.now() > deadline) throw new Error(`map-params/${iid} did not end: ${r.body}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    };

    it('MAP entries read the enclosing params, STRING_MAP/STRING_ARRAY literals interpolate, the while condition reads the signals', async () => {
      await s.services.signals.publish([{ name: SIGNAL, params: { region: 'eu', count: 3n, cap: 10n } }]);
      const r = await ended(1);
      expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
      // LONG entries of a MAP read back as decimal texts (MAP entries are stored untyped).
      expect(r.params?.cfg?.value).toEqual({ doubled: '10', limit: '999', path: 's3://bucket/20240101/eu', inner: { tag: 'eu-20240101' } });
      expect(r.params?.labels?.value).toEqual({ eu_day: '20240101', fixed: 'x' });
      expect(r.params?.paths?.value).toEqual(['/a/20240101', '/b']);

      const first = await s.db.query<{ m: unknown }>(
        `SELECT a.params->'m'->'value' AS m FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
          WHERE i.workflow_id = 'map-params' AND i.instance_id = 1 AND a.step_id = 'first'`,
      );
      expect(first.rows).toEqual([{ m: { x: '16', d: '20240101' } }]);

      // The loop ran while i < count (3) read from the signal, in both forms.
      const loop = await s.db.query<{ status: string; reason: string }>(
        `SELECT a.status, a.reason FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
          WHERE i.workflow_id = 'map-params' AND i.instance_id = 1 AND a.step_id = 'loop'`,
      );
      expect(loop.rows).toEqual([{ status: 'SUCCEEDED', reason: 'condition false after 3 iterations' }]);
    });
  });
}
