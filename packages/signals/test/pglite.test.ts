import type { PGliteDb } from '@baton/engine-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveDependency } from '../src/dependencies.js';
import type { SignalService } from '../src/service.js';
import { countStarts, openPgliteService } from './helpers.js';
import { sampleSignalTriggerWorkflow } from './maestro-sample.js';

// The embedded default: the same SQL has to run on PGlite.
let db: PGliteDb;
let svc: SignalService;

beforeAll(async () => {
  ({ db, svc } = await openPgliteService());
});
afterAll(async () => {
  await svc?.stop();
  await db?.close();
});

it('runs the sample trigger, gates, outputs and lineage on PGlite', async () => {
  const def = sampleSignalTriggerWorkflow();
  await svc.syncSubscriptions(def.workflowId, def);
  await svc.start();
  const a = { name: 'signal_a', params: { foo: 'bat', watermark: 123456, updated_by: 'tester' } };
  const b = { name: 'signal_b', params: { bar: 'baz', watermark: 9223372036854775807n, posted_by: 'tester' } };
  const [ra, rb] = await Promise.all([svc.publish([a]), svc.publish([b])]);
  expect([ra![0]!.seq_id, rb![0]!.seq_id]).toEqual([1, 1]);
  const t0 = Date.now();
  while ((await countStarts(db, def.workflowId)) === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
  expect(await countStarts(db, def.workflowId)).toBe(1);
  expect((await svc.getInstance('signal_b', 'latest')).params.watermark).toBe(9223372036854775807n);
  await svc.publish([a, b]);
  await svc.stop();
  await svc.drain();
  expect(await countStarts(db, def.workflowId)).toBe(1);

  const step = { workflowId: 'wf', workflowInstanceId: 1, stepId: 's', attempt: 1 };
  const check = await db.tx((tx) => svc.registerWaiter(tx, step, [resolveDependency('signal_b', { watermark: { value: 1, operator: '>' } })]));
  expect(check.satisfied).toBe(true);
  const out = await db.tx((tx) => svc.emitOutputs(tx, step, [{ name: 'out/x', params: { k: 'v' } }]));
  expect(out[0]).toMatchObject({ seq_id: 1, duplicate: false });
  const g = await svc.lineageOfWorkflowInstance('wf', 1, 2);
  expect(g.edges.map((e) => e.kind).sort()).toEqual(['EMITTED', 'UNBLOCKED']);
});
