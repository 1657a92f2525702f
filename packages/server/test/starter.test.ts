import { Engine, migrate, parseWorkflowJson, PGliteDb, pushWorkflow, storeDefinitions, type Db } from '@baton/engine-core';
import type { StartRequest } from '@baton/signals';
import type { TimeStartRequest } from '@baton/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageMigrations } from '../src/migrations.js';
import { createWorkflowStarter } from '../src/wiring/starter.js';

function timeRequest(workflowId: string, fireMs: number): TimeStartRequest {
  const fire = new Date(fireMs).toISOString();
  return {
    workflowId,
    version: 1,
    params: { RUN_TS: fireMs, WORKFLOW_CRON_TIMEZONE: 'UTC' },
    requestId: `time-trigger:${workflowId}:t0:${fire}`,
    initiator: { type: 'TIME', trigger: 't0', fire_time: fire, timezone: 'UTC', expression: '0 * * * * ?' },
  };
}

function signalRequest(workflowId: string, requestId: string): StartRequest {
  return {
    workflowId,
    version: 'active',
    params: { count: { expression: "params.getFromSignal('orders', 'count') + 1", type: 'LONG' }, label: { value: 'fixed', type: 'STRING' } },
    requestId,
    initiator: { type: 'SIGNAL', workflowId, triggerId: 'trig', signals: [{ name: 'orders', seq_id: 2n ** 60n, instance_id: 'o-1', params: { count: 41n } }] },
  };
}

describe('workflow starter (signals and scheduler → engine)', () => {
  let db: Db;

  beforeAll(async () => {
    db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    for (const id of ['timed', 'signalled']) {
      const parsed = parseWorkflowJson(JSON.stringify({ workflow: { id, params: { count: { value: 0, type: 'LONG' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      await pushWorkflow(db, parsed.value);
    }
  });
  afterAll(async () => {
    await db?.close();
  });

  const instances = async () =>
    (await db.query<{ workflow_id: string; instance_id: number; run_params: Record<string, unknown>; initiator: Record<string, unknown> }>(
      'SELECT workflow_id, instance_id, run_params, initiator FROM baton_workflow_instances ORDER BY id',
    )).rows;

  it('starts a batch in the caller transaction, evaluating signal trigger params, once per request id', async () => {
    const starter = createWorkflowStarter(db);
    const timed = [timeRequest('timed', Date.UTC(2026, 0, 1)), timeRequest('timed', Date.UTC(2026, 0, 1, 0, 1))];
    const signalled = [signalRequest('signalled', 's-1')];
    const startAll = () => db.tx(async (tx) => [...(await starter.startWorkflows!(tx, timed)), ...(await starter.startWorkflows!(tx, signalled))]);
    expect(await startAll()).toEqual([
      { workflowInstanceId: 1, created: true },
      { workflowInstanceId: 2, created: true },
      { workflowInstanceId: 1, created: true },
    ]);
    expect((await startAll()).map((r) => r.created)).toEqual([false, false, false]);
    expect(await db.tx((tx) => starter.startWorkflow(tx, timed[1]!))).toEqual({ workflowInstanceId: 2, created: false });
    const rows = await instances();
    expect(rows).toHaveLength(3);
    const row = rows.find((r) => r.workflow_id === 'signalled')!;
    expect(row.run_params).toMatchObject({ count: { type: 'LONG', value: '42' }, label: { type: 'STRING', value: 'fixed' } });
    // 64-bit values in the initiator are stored as decimal strings once beyond exact doubles.
    expect(row.initiator).toMatchObject({ signals: [{ seq_id: (2n ** 60n).toString(), params: { count: 41 } }] });
  });

  it('shares the process engine when given one, and rolls back with the caller', async () => {
    const starter = createWorkflowStarter(new Engine({ db, definitions: storeDefinitions(db) }));
    await expect(
      db.tx(async (tx) => {
        expect(await starter.startWorkflow(tx, signalRequest('signalled', 's-2'))).toEqual({ workflowInstanceId: 2, created: true });
        throw new Error('matcher failed later in its transaction');
      }),
    ).rejects.toThrow('matcher failed later');
    expect((await instances()).filter((r) => r.workflow_id === 'signalled')).toHaveLength(1);
    expect(await db.tx((tx) => starter.startWorkflow(tx, signalRequest('signalled', 's-2')))).toEqual({ workflowInstanceId: 2, created: true });
  });

  it('refuses a request for a version that does not exist, naming it', async () => {
    const starter = createWorkflowStarter(db);
    await expect(db.tx((tx) => starter.startWorkflow(tx, { ...timeRequest('timed', Date.UTC(2026, 0, 2)), version: 7 }))).rejects.toThrow('workflow timed has no version 7');
  });
});
