import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkflowYaml } from '../../src/definition/yaml-dsl.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { registerBuiltinRuntimes } from '../../src/runtimes/builtin.js';
import { processGroupMembers } from '../../src/runtimes/process-group.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { testEngine } from '../runtime/support/engine.js';

/** Shell steps through the engine: outputs reach successors, and stopping the instance ends the process group. */
describe('Shell steps on the engine', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  let work: string;
  const q = (s: string): string => JSON.stringify(s);

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'baton-shell-engine-'));
    const writeOutputs = `require('fs').writeFileSync(process.env.BATON_OUTPUT_FILE, JSON.stringify({ rows: 3, table: process.env.TABLE }))`;
    const defs = new InMemoryDefinitions();
    for (const yaml of [
      `
Workflow:
  id: shell-outputs
  dag: sequential
  jobs:
    - job:
        id: extract
        type: Shell
        command: [${q(process.execPath)}, "-e", ${q(writeOutputs)}]
        env: {TABLE: "events"}
    - job:
        id: report
        type: NoOp
        '!total<long>': "params.getFromStep('extract', 'rows') + 1"
        note: "table \${extract__table}"
`,
      `
Workflow:
  id: shell-stop
  jobs:
    - job:
        id: hang
        type: ShellCommand
        command: ["sh", "-c", ${q(`sleep 100 & echo $$! > '${path.join(work, 'pids')}'; echo $$$$ >> '${path.join(work, 'pids')}'; sleep 100`)}]
`,
    ]) {
      const parsed = parseWorkflowYaml(yaml);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      defs.add(parsed.value);
    }
    t = await openTestDb('pglite');
    ({ engine, errors } = testEngine(t.db, defs));
    registerBuiltinRuntimes(engine, { shell: { killGraceMs: 500 } });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await t?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('passes output params to successors with their inferred types', async () => {
    const started = await engine.startWorkflow({ workflowId: 'shell-outputs', requestId: 'shell-outputs-1' });
    expect(await engine.waitForInstance('shell-outputs', started.workflowInstanceId, 30_000)).toBe('SUCCEEDED');
    const extract = await engine.getStepAttempt('shell-outputs', started.workflowInstanceId, 'extract');
    expect(extract?.outputs.rows?.value).toBe(3n);
    const report = await engine.getStepAttempt('shell-outputs', started.workflowInstanceId, 'report');
    expect(report?.params.total?.value).toBe(4n);
    expect(report?.params.note?.value).toBe('table events');
    expect(errors).toEqual([]);
  });

  it('ends the whole process group when the instance is stopped', async () => {
    const started = await engine.startWorkflow({ workflowId: 'shell-stop', requestId: 'shell-stop-1' });
    let pids: number[] = [];
    for (let i = 0; i < 1000 && pids.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      pids = (await readFile(path.join(work, 'pids'), 'utf8').catch(() => '')).split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    }
    expect(pids).toHaveLength(2);
    const pgid = pids[1]!;
    expect(processGroupMembers(pgid).length).toBeGreaterThan(0);
    expect(await engine.stopInstance('shell-stop', started.workflowInstanceId, 'test stop')).toBe(true);
    for (let i = 0; i < 250 && processGroupMembers(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(processGroupMembers(pgid)).toEqual([]);
    expect(await engine.waitForInstance('shell-stop', started.workflowInstanceId, 30_000)).toBe('STOPPED');
    expect(errors).toEqual([]);
  });
});
