import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { testEngine, workflow } from '../runtime/support/engine.js';

/**
 * The wall-clock limit in the engine (PGlite; the server test covers PostgreSQL): a workflow
 * param, a step param, a validator, a successor condition and a while condition that run too long each end their
 * run FAILED with the limit named (a while step's condition too), without retries, while other runs go on.
 */
const LOOP = 'long s = 0; for (int i = 0; i < 25000; i = i + 1) { for (int j = 0; j < 4000; j = j + 1) { s = s + 1; } } return s;';
const REGEX = "String s = 'a'; for (int i = 0; i < 17; i = i + 1) { s = s + s; } return s.replaceAll('a*b|a', 'x');";

let t: TestDb;
let engine: Engine;
let errors: unknown[];

beforeAll(async () => {
  t = await openTestDb('pglite');
  const defs = new InMemoryDefinitions();
  defs.add(workflow({ workflow: { id: 'wf-param', params: { w: { expression: REGEX, type: 'STRING' } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
  defs.add(workflow({ workflow: { id: 'step-param', steps: [{ step: { id: 'a', type: 'NoOp', params: { p: { expression: LOOP, type: 'LONG' } } } }] } }));
  defs.add(workflow({ workflow: { id: 'validator', params: { v: { value: 1, type: 'LONG', validator: `${LOOP.slice(0, -'return s;'.length)}return s > param;` } }, steps: [{ step: { id: 'a', type: 'NoOp' } }] } }));
  defs.add(workflow({ workflow: { id: 'condition', steps: [{ step: { id: 'a', type: 'NoOp', transition: { successors: { b: `${REGEX.slice(0, -1)} == 'x';` } } } }, { step: { id: 'b', type: 'NoOp' } }] } }));
  defs.add(
    workflow({
      workflow: {
        id: 'while-condition',
        steps: [{ while: { id: 'loop', condition: `${REGEX.slice(0, -1)} == 'x';`, steps: [{ step: { id: 'body', type: 'NoOp' } }] } }],
      },
    }),
  );
  defs.add(workflow({ workflow: { id: 'benign', params: { n: { expression: 'int s = 0; for (int i = 0; i < 10; i = i + 1) { s = s + i; } return s;', type: 'LONG' } }, steps: [{ step: { id: 'a', type: 'NoOp', params: { m: { expression: 'n + 1', type: 'LONG' } } } }] } }));
  ({ engine, errors } = testEngine(t.db, defs, { selTimeoutMs: 300 }));
  await engine.start();
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  await t?.close();
});

describe('the SEL wall-clock limit in the engine', () => {
  it('fails each run naming what passed the limit; a benign run next to them succeeds', async () => {
    const start = async (id: string) => (await engine.startWorkflow({ workflowId: id })).workflowInstanceId;
    const ids = { wf: await start('wf-param'), step: await start('step-param'), validator: await start('validator'), cond: await start('condition'), whileCond: await start('while-condition'), benign: await start('benign') };

    expect(await engine.waitForInstance('benign', ids.benign)).toBe('SUCCEEDED');
    expect((await engine.getStepAttempt('benign', ids.benign, 'a'))?.params.m?.value).toBe(46n);

    expect(await engine.waitForInstance('wf-param', ids.wf)).toBe('FAILED');
    expect((await engine.getRun('wf-param', ids.wf))?.reason).toBe('workflow params: evaluation of param w exceeded the wall-clock limit of 300 ms');

    expect(await engine.waitForInstance('step-param', ids.step)).toBe('FAILED');
    const step = await engine.getStepAttempt('step-param', ids.step, 'a');
    expect(step?.status).toBe('USER_FAILED');
    expect(step?.attemptId).toBe(1);
    expect(step?.reason).toBe('evaluation of param p exceeded the wall-clock limit of 300 ms');

    expect(await engine.waitForInstance('validator', ids.validator)).toBe('FAILED');
    expect((await engine.getRun('validator', ids.validator))?.reason).toMatch(/^workflow params: param v: value 1 fails validator .*: evaluation exceeded the wall-clock limit of 300 ms$/);

    expect(await engine.waitForInstance('condition', ids.cond)).toBe('FAILED');
    expect((await engine.getStepAttempt('condition', ids.cond, 'a'))?.reason).toMatch(/^condition for successor b .*: evaluation exceeded the wall-clock limit of 300 ms$/);

    expect(await engine.waitForInstance('while-condition', ids.whileCond)).toBe('FAILED');
    const loop = await engine.getStepAttempt('while-condition', ids.whileCond, 'loop');
    expect(loop?.status).toBe('USER_FAILED');
    expect(loop?.reason).toMatch(/^while condition \(.*\): evaluation exceeded the wall-clock limit of 300 ms$/);
    expect(errors).toEqual([]);
  }, 120_000);
});
