import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, parseWorkflowJson, pushWorkflow, storeDefinitions } from '../../src/index.js';
import { openTestDb, type TestDb } from './support/databases.js';
import { samplesDir } from './support/samples.js';

describe('engine on the versions store', () => {
  let t: TestDb;
  let engine: Engine;

  beforeAll(async () => {
    t = await openTestDb('pglite');
    engine = new Engine({ db: t.db, definitions: storeDefinitions(t.db), timeScale: 0.001, pollMs: 200 });
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await t?.close();
  });

  it('runs the active version of a pushed workflow and pins the instance to it', async () => {
    const parsed = parseWorkflowJson(readFileSync(path.join(samplesDir, 'sample-conditional-wf.json'), 'utf8'));
    if (!parsed.ok) throw new Error('sample does not parse');
    const pushed = await pushWorkflow(t.db, parsed.value);
    const r = await engine.startWorkflow({ workflowId: 'sample-conditional-wf', requestId: 'store-1' });
    expect(r.version).toBe(pushed.version);
    expect(await engine.waitForInstance('sample-conditional-wf', r.workflowInstanceId)).toBe('SUCCEEDED');
    const run = await engine.getRun('sample-conditional-wf', r.workflowInstanceId);
    expect(run?.steps.filter((s) => s.status === 'UNSATISFIED').map((s) => s.stepId)).toEqual(['job.4', 'job.5']);
  });
});
