import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { sendJson, waitForStep } from './helpers/service-http.js';

/*
 * Maestro (ParamEvaluator.evaluateSignalDependenciesOrOutputsParameters → parseStepParameter):
 * a step's signal_outputs params resolve names in the step's params first, then in the
 * workflow's; string literals interpolate `${name}` the same way.
 */
const workflow = {
  properties: { owner: 'alice' },
  workflow: {
    id: 'sig-outputs',
    params: { region: { value: 'eu', type: 'STRING' }, who: { value: 'workflow', type: 'STRING' }, n: { value: 5, type: 'LONG' } },
    steps: [
      {
        step: {
          id: 'emit',
          type: 'NoOp',
          params: { day: { value: '20240101', type: 'STRING' }, who: { value: 'step', type: 'STRING' } },
          signal_outputs: [
            {
              name: 'orders/exported',
              params: {
                region: { expression: 'region', type: 'STRING' },
                key: { value: '${day}-${region}', type: 'STRING' },
                who: { expression: 'who', type: 'STRING' },
                next: { expression: 'n + 1', type: 'LONG' },
              },
            },
          ],
        },
      },
    ],
  },
};

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`signal outputs evaluate over workflow and step params (${kind})`, () => {
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

    it('reads workflow params, with step params taking precedence, in SEL and in ${...}', async () => {
      const started = await sendJson(s, 'POST', '/api/v3/workflows/sig-outputs/versions/active/actions/start', {});
      expect(started.statusCode, started.body).toBeLessThan(300);
      const iid = (started.json() as { workflow_instance_id: number }).workflow_instance_id;
      await waitForStep(s, 'sig-outputs', iid, 'emit', 'SUCCEEDED');
      const rows = await s.db.query<{ params: string }>("SELECT params::text AS params FROM signal_instances WHERE name = 'orders/exported'");
      expect(rows.rows.map((r) => JSON.parse(r.params) as unknown)).toEqual([{ region: 'eu', key: '20240101-eu', who: 'step', next: 6 }]);
    });
  });
}
