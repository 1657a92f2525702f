import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activate,
  deactivate,
  DefinitionError,
  engineMigrations,
  getVersion,
  listActiveWorkflows,
  listVersions,
  listWorkflowEvents,
  migrate,
  parseWorkflowJson,
  PgDb,
  PGliteDb,
  pushWorkflow,
  WorkflowLifecycle,
  WorkflowNotFoundError,
  type Db,
  type WorkflowEvent,
  type WorkflowRequest,
} from '@baton/engine-core';
import { createTestDatabase } from '../../../../test/setup/infra.js';

interface Impl {
  name: string;
  open(): Promise<{ db: Db; cleanup(): Promise<void> }>;
}

const impls: Impl[] = [
  {
    name: 'PGlite (in memory)',
    async open() {
      const db = await PGliteDb.open({});
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const database = await createTestDatabase();
      const db = new PgDb({ connectionString: database.url, applicationName: 'baton-definition-store-test' });
      return {
        db,
        async cleanup() {
          await db.close();
          await database.drop();
        },
      };
    },
  },
];

function req(id: string, opts: { sleep?: number; owner?: string; isActive?: boolean; big?: boolean } = {}): WorkflowRequest {
  const text = JSON.stringify({
    ...(opts.owner ? { properties: { owner: opts.owner, run_strategy: 'parallel' } } : {}),
    ...(opts.isActive === undefined ? {} : { is_active: opts.isActive }),
    workflow: {
      id,
      steps: [
        { step: { id: 'a', type: 'Sleep', params: { sleep_seconds: { value: opts.sleep ?? 1, type: 'LONG' } }, transition: { successors: { b: 'true' } } } },
        { step: { id: 'b', type: 'NoOp', params: opts.big ? { big: { value: 'BIG', type: 'LONG' } } : {} } },
      ],
    },
  }).replace('"BIG"', '9223372036854775807');
  const r = parseWorkflowJson(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

for (const impl of impls) {
  describe(`workflow versions store on ${impl.name}`, () => {
    let db: Db;
    let cleanup: (() => Promise<void>) | undefined;
    const events: WorkflowEvent[] = [];
    const lifecycle = new WorkflowLifecycle();
    lifecycle.subscribe((e) => {
      events.push(e);
    });
    const opts = { events: lifecycle };

    beforeAll(async () => {
      ({ db, cleanup } = await impl.open());
      await migrate(db, [engineMigrations]);
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('creates version 1, activates it and tells subscribers after commit', async () => {
      events.length = 0;
      const r = await pushWorkflow(db, req('wf-a', { owner: 'alice' }), opts);
      expect(r).toEqual({ workflowId: 'wf-a', version: 1, created: true, activeVersion: 1 });
      expect(events.map((e) => [e.kind, e.version])).toEqual([['version_created', 1], ['activated', 1]]);
      const v = await getVersion(db, 'wf-a', 'active');
      expect(v).toMatchObject({ workflowId: 'wf-a', version: 1, active: true, properties: { owner: 'alice', runStrategy: { rule: 'PARALLEL' } } });
      expect(v?.workflow).toEqual(req('wf-a').workflow);
    });

    it('makes no new version for an unchanged definition', async () => {
      events.length = 0;
      const r = await pushWorkflow(db, req('wf-a'), opts);
      expect(r).toEqual({ workflowId: 'wf-a', version: 1, created: false, activeVersion: 1 });
      expect(events).toEqual([]);
      expect((await listVersions(db, 'wf-a')).map((v) => v.version)).toEqual([1]);
    });

    it('keeps properties across versions and updates them when given', async () => {
      events.length = 0;
      const r2 = await pushWorkflow(db, req('wf-a', { sleep: 2 }), opts);
      expect(r2).toMatchObject({ version: 2, created: true, activeVersion: 2 });
      expect((await getVersion(db, 'wf-a', 2))?.properties.owner).toBe('alice');
      expect(events.map((e) => [e.kind, e.version, e.previousActiveVersion])).toEqual([
        ['version_created', 2, undefined],
        ['activated', 2, 1],
      ]);
      events.length = 0;
      const r3 = await pushWorkflow(db, req('wf-a', { sleep: 2, owner: 'bob' }), opts);
      expect(r3).toMatchObject({ version: 2, created: false });
      expect(events.map((e) => e.kind)).toEqual(['properties_changed']);
      expect((await getVersion(db, 'wf-a', 'latest'))?.properties).toMatchObject({ owner: 'bob', runStrategy: { rule: 'PARALLEL' } });
    });

    it('pushes inactive versions, activates and deactivates explicitly', async () => {
      const r = await pushWorkflow(db, req('wf-a', { sleep: 3, isActive: false }), opts);
      expect(r).toMatchObject({ version: 3, created: true, activeVersion: 2 });
      expect((await getVersion(db, 'wf-a', 'active'))?.version).toBe(2);
      expect((await getVersion(db, 'wf-a', 'latest'))?.active).toBe(false);
      events.length = 0;
      await activate(db, 'wf-a', 3, opts);
      await activate(db, 'wf-a', 3, opts);
      expect(events.map((e) => [e.kind, e.version, e.previousActiveVersion])).toEqual([['activated', 3, 2]]);
      await expect(activate(db, 'wf-a', 9, opts)).rejects.toThrow(WorkflowNotFoundError);
      await expect(activate(db, 'nope', 1, opts)).rejects.toThrow('workflow "nope" does not exist');
      events.length = 0;
      await deactivate(db, 'wf-a', opts);
      await deactivate(db, 'wf-a', opts);
      expect(events.map((e) => [e.kind, e.version])).toEqual([['deactivated', 3]]);
      expect(await getVersion(db, 'wf-a', 'active')).toBeUndefined();
      expect((await getVersion(db, 'wf-a', 1))?.version).toBe(1);
      expect(await getVersion(db, 'wf-a', 99)).toBeUndefined();
      expect(await getVersion(db, 'missing', 'latest')).toBeUndefined();
    });

    it('lists active definitions and the event log for subscribers starting up', async () => {
      await pushWorkflow(db, req('wf-b'), opts);
      const active = await listActiveWorkflows(db);
      expect(active.map((a) => [a.workflowId, a.version])).toContainEqual(['wf-b', 1]);
      expect(active.map((a) => a.workflowId)).not.toContain('wf-a');
      const log = await listWorkflowEvents(db);
      expect(log.filter((e) => e.workflowId === 'wf-a').map((e) => e.kind)).toEqual([
        'version_created', 'activated', 'version_created', 'activated', 'properties_changed', 'version_created', 'activated', 'deactivated',
      ]);
      const later = await listWorkflowEvents(db, log[log.length - 2]?.seq ?? 0);
      expect(later).toHaveLength(1);
    });

    it('keeps 64-bit values exact through storage', async () => {
      await pushWorkflow(db, req('wf-big', { big: true }), opts);
      const v = await getVersion(db, 'wf-big', 'latest');
      expect(v?.workflow.steps[1]?.params.big?.value).toBe(9223372036854775807n);
    });

    it('refuses invalid definitions with every issue', async () => {
      const bad = req('wf-bad');
      bad.workflow.steps[0]!.transition.successors = { missing: 'true' };
      const err = await pushWorkflow(db, bad, opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DefinitionError);
      expect((err as DefinitionError).issues).toEqual([{ field: 'workflow.steps[0].transition.successors.missing', message: 'unknown step id' }]);
      expect(await getVersion(db, 'wf-bad', 'latest')).toBeUndefined();
    });

    it('gives concurrent pushes distinct, gap-free versions', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pushWorkflow(db, req('wf-c', { sleep: 100 + i }), opts)));
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect((await listVersions(db, 'wf-c')).map((v) => v.version)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
      // The same definition pushed concurrently is stored once.
      const same = await Promise.all(Array.from({ length: 4 }, () => pushWorkflow(db, req('wf-d'), opts)));
      expect(same.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(same.map((r) => r.version))).toEqual(new Set([1]));
    });
  });
}
