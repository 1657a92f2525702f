import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { activate, deactivate, engineMigrations, migrate, parseWorkflowJson, pushWorkflow, WorkflowLifecycle, type WorkflowRequest } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followEngineLifecycle, reconcileWithEngine, Scheduler, schedulerMigrations } from '../src/index.js';
import { ManualClock, openTestDb, TableStarter, type TestDb } from './support/pg.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sample = JSON.parse(readFileSync(path.resolve(repoRoot, '../shared/maestro-samples/sample-time-trigger-wf.json'), 'utf8')) as Record<string, unknown>;

function request(mutate: (raw: { properties: Record<string, unknown>; workflow: Record<string, unknown> }) => void = () => {}): WorkflowRequest {
  const raw = structuredClone(sample) as { properties: Record<string, unknown>; workflow: Record<string, unknown> };
  mutate(raw);
  const parsed = parseWorkflowJson(raw as never);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

async function until(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb();
  await migrate(t.db, [engineMigrations, schedulerMigrations]);
});
afterAll(async () => {
  await t?.close();
});

describe('following the engine', () => {
  it('activation, a new version, time_trigger_disabled and deactivation reach the schedule at once', async () => {
    const clock = new ManualClock(Date.parse('2024-11-02T18:59:00Z'));
    const lifecycle = new WorkflowLifecycle((err) => {
      throw err;
    });
    const scheduler = new Scheduler({ db: t.db, starter: new TableStarter(), now: clock.now });
    const stop = await followEngineLifecycle(scheduler, t.db, { lifecycle, pollIntervalMs: 60_000 });
    try {
      await pushWorkflow(t.db, request(), { events: lifecycle });
      const rows = await scheduler.list('sample-time-trigger-wf');
      expect(rows.map((r) => [r.expression, r.timezone, r.enabled, new Date(r.next_fire_ms!).toISOString(), r.workflow_version])).toEqual(
        expect.arrayContaining([
          ['0 0 12 1/1 * ? *', 'US/Pacific', true, '2024-11-02T19:00:00.000Z', 1],
          ['@daily', 'Asia/Tokyo', true, '2024-11-03T15:00:00.000Z', 1],
          ['*/2 * * * *', 'US/Pacific', true, '2024-11-02T19:00:00.000Z', 1],
        ]),
      );
      expect(rows).toHaveLength(3);
      // The fuzzy trigger waits its stable jitter (< 30 s) after the fire time.
      const fuzzy = rows.find((r) => r.expression === '*/2 * * * *')!;
      expect(fuzzy.next_due_ms! - fuzzy.next_fire_ms!).toBeLessThan(30_000);

      // A new version that drops a trigger: the others keep their rows, the dropped one goes.
      await pushWorkflow(t.db, request((r) => (r.workflow.time_triggers = (r.workflow.time_triggers as unknown[]).slice(0, 2))), { events: lifecycle });
      expect((await scheduler.list('sample-time-trigger-wf')).map((r) => [r.expression, r.workflow_version])).toEqual(
        expect.arrayContaining([
          ['0 0 12 1/1 * ? *', 2],
          ['@daily', 2],
        ]),
      );
      expect(await scheduler.list('sample-time-trigger-wf')).toHaveLength(2);

      await pushWorkflow(t.db, request((r) => (r.properties.time_trigger_disabled = true)), { events: lifecycle });
      expect((await scheduler.list('sample-time-trigger-wf')).every((r) => !r.enabled)).toBe(true);

      await pushWorkflow(t.db, request((r) => (r.properties.time_trigger_disabled = false)), { events: lifecycle });
      expect((await scheduler.list('sample-time-trigger-wf')).every((r) => r.enabled)).toBe(true);

      await deactivate(t.db, 'sample-time-trigger-wf', { events: lifecycle });
      expect((await scheduler.list('sample-time-trigger-wf')).every((r) => !r.enabled)).toBe(true);
      await activate(t.db, 'sample-time-trigger-wf', 1, { events: lifecycle });
      expect((await scheduler.list('sample-time-trigger-wf')).filter((r) => r.enabled)).toHaveLength(3);
    } finally {
      stop();
    }
  });

  it('changes made by another process arrive through the events table; start-up reconciles', async () => {
    const clock = new ManualClock(Date.parse('2024-11-02T18:59:00Z'));
    const here = new WorkflowLifecycle();
    const elsewhere = new WorkflowLifecycle(); // another process's emitter: nobody here listens to it
    const scheduler = new Scheduler({ db: t.db, starter: new TableStarter(), now: clock.now });
    await reconcileWithEngine(scheduler, t.db);
    const stop = await followEngineLifecycle(scheduler, t.db, { lifecycle: here, pollIntervalMs: 50 });
    try {
      await pushWorkflow(
        t.db,
        request((r) => {
          r.workflow.id = 'other-process-wf';
          r.workflow.time_triggers = [{ type: 'CRON', cron: '30 4 * * *', timezone: 'Europe/Rome', catch_up: 'ALL', id: 'nightly' }];
        }),
        { events: elsewhere },
      );
      await until(async () => (await scheduler.list('other-process-wf')).length === 1);
      const [row] = await scheduler.list('other-process-wf');
      expect(row).toMatchObject({ trigger_key: 'nightly', enabled: true, next_fire_ms: Date.parse('2024-11-03T03:30:00Z') });
      expect(row!.definition).toMatchObject({ catch_up: 'ALL', id: 'nightly' });

      await deactivate(t.db, 'other-process-wf', { events: elsewhere });
      await until(async () => !(await scheduler.list('other-process-wf'))[0]!.enabled);

      // A fresh process reconciles with the engine: only active workflows schedule.
      const report = await reconcileWithEngine(new Scheduler({ db: t.db, starter: new TableStarter(), now: clock.now }), t.db);
      expect(report.invalid).toEqual([]);
      const enabled = (await scheduler.list()).filter((r) => r.enabled).map((r) => r.workflow_id);
      expect(new Set(enabled)).toEqual(new Set(['sample-time-trigger-wf']));
    } finally {
      stop();
    }
  });
});
