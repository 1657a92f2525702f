import { PgDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';
import { sendJson } from './helpers/service-http.js';

/*
 * Maestro's model (Properties, User, Tag): the owner is a User — a name or an object
 * {name, ...}; tags are names or objects; blocks Baton does not act on (alerting, access
 * control) are kept and returned as pushed.
 */
const alerting = { emails: ['team@example.com'], pagerduty_configs: [{ service: 'etl' }], tct: { completed_by_hour: 5, tz: 'UTC' } };
const accessControl = { operators: ['ops'], readers: ['everyone'] };

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`Maestro property shapes (${kind})`, () => {
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

    it('keeps an owner object, tag objects, alerting and access control, and reads the owner by name', async () => {
      const owner = { name: 'alice', email: 'alice@example.com', metadata: { team: 'data' } };
      const tags = ['nightly', { name: 'finance', namespace: 'team', permit: { level: 1 } }];
      const pushed = await sendJson(s, 'POST', '/api/v3/workflows', {
        properties: { owner, tags, alerting, access_control: accessControl },
        workflow: { id: 'owned', params: { who: { expression: 'owner', type: 'STRING' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] },
      });
      expect(pushed.statusCode, pushed.body).toBeLessThan(300);
      await sendJson(s, 'POST', '/api/v3/workflows', { properties: { owner: 'bob' }, workflow: { id: 'plain', steps: [{ step: { id: 'a', type: 'NoOp' } }] } });

      const got = (await sendJson(s, 'GET', '/api/v3/workflows/owned/versions/latest')).json() as { definition: { properties: Record<string, unknown> } };
      // A tag given as a string comes back as a tag object, as Maestro returns it.
      expect(got.definition.properties).toEqual({ owner, tags: [{ name: 'nightly' }, tags[1]], alerting, access_control: accessControl });

      const list = (await sendJson(s, 'GET', '/api/v3/workflows?owner=alice')).json() as { items: { workflow_id: string; owner: string }[] };
      expect(list.items.map((w) => [w.workflow_id, w.owner])).toEqual([['owned', 'alice']]);
      const bob = (await sendJson(s, 'GET', '/api/v3/workflows?owner=bob')).json() as { items: { workflow_id: string }[] };
      expect(bob.items.map((w) => w.workflow_id)).toEqual(['plain']);

      // The `owner` workflow param is the owner's name.
      const started = await sendJson(s, 'POST', '/api/v3/workflows/owned/versions/active/actions/start', {});
      const iid = (started.json() as { workflow_instance_id: number }).workflow_instance_id;
      const deadline = Date.now() + 15_000;
      let run: { status: string; params?: Record<string, { value: unknown }> };
      do {
        await new Promise((r) => setTimeout(r, 50));
        run = (await sendJson(s, 'GET', `/api/v3/workflows/owned/instances/${iid}/runs/latest`)).json() as typeof run;
      } while (run.status !== 'SUCCEEDED' && run.status !== 'FAILED' && Date.now() < deadline);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.params?.owner?.value).toBe('alice');
      expect(run.params?.who?.value).toBe('alice');
    });

    it('refuses an owner object without a name, naming the field', async () => {
      const r = await sendJson(s, 'POST', '/api/v3/workflows', { properties: { owner: { email: 'x@example.com' } }, workflow: { id: 'nameless', steps: [{ step: { id: 'a', type: 'NoOp' } }] } });
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.body).toContain('properties.owner.name');
    });
  });
}
