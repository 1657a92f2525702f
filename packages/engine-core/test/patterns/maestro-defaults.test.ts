import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWorkflowDefinition } from '../../src/definition/parse.js';
import { stepToJson, workflowToJson } from '../../src/definition/to-json.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { backoffSeconds } from '../../src/runtime/retry.js';
import type { StepRuntime } from '../../src/runtime/step-runtime.js';
import { openTestDb, type DbKind, type TestDb } from '../runtime/support/databases.js';
import { testEngine, workflow } from '../runtime/support/engine.js';

/*
 * Defaults and forms Maestro applies (SleepStepRuntime, DurationParser / RetryPolicy backoff,
 * time trigger timezone), as Baton reads them.
 */
const retried = (backoff: Record<string, unknown>) => ({ workflow: { id: 'r', steps: [{ step: { id: 's', type: 'NoOp', retry_policy: { error_retry_limit: 1, backoff } } }] } });

describe('retry backoff as duration texts', () => {
  it('reads "1 min 40 s", "5mins", "2hours" (and numbers, numeric text, ms) as seconds', () => {
    const wf = workflow(retried({ type: 'EXPONENTIAL_BACKOFF', error_retry_backoff_in_secs: '1 min 40 s', error_retry_exponent: 2, error_retry_limit_in_secs: '2hours', platform_retry_backoff_in_secs: '5mins', timeout_retry_backoff_in_secs: '90' }));
    const step = wf.workflow.steps[0]!;
    if (step.kind !== 'step') throw new Error('expected a step');
    const b = step.retryPolicy!.backoff!;
    expect([1, 2, 8].map((r) => backoffSeconds(b, 'error', r, {}))).toEqual([100, 200, 7200]);
    expect(backoffSeconds(b, 'platform', 1, {})).toBe(300);
    expect(backoffSeconds(b, 'timeout', 1, {})).toBe(90);
    expect(backoffSeconds({ type: 'FIXED_BACKOFF', errorRetryBackoffInSecs: { template: '1day 2h 3min 4s 5000ms' } }, 'error', 1, {})).toBe(86400 + 7200 + 180 + 4 + 5);
    // The text is kept as written when the definition is returned.
    expect((stepToJson(step).retry_policy as { backoff: Record<string, unknown> }).backoff).toMatchObject({ error_retry_backoff_in_secs: '1 min 40 s', error_retry_limit_in_secs: '2hours' });
  });

  it('refuses texts that are no duration, and durations out of range, naming the field', () => {
    const bad = checkWorkflowDefinition(JSON.stringify(retried({ type: 'FIXED_BACKOFF', error_retry_backoff_in_secs: '5 fortnights' })));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors).toEqual([expect.objectContaining({ field: expect.stringContaining('backoff.error_retry_backoff_in_secs'), message: expect.stringContaining("unknown unit 'fortnights'") })]);
    const long = checkWorkflowDefinition(JSON.stringify(retried({ type: 'FIXED_BACKOFF', error_retry_backoff_in_secs: '400 days' })));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.errors[0]).toMatchObject({ field: expect.stringContaining('backoff.error_retry_backoff_in_secs'), message: expect.stringContaining('(34560000 seconds)') });
    // Exponents stay whole numbers.
    expect(checkWorkflowDefinition(JSON.stringify(retried({ type: 'EXPONENTIAL_BACKOFF', error_retry_exponent: '2 s' }))).ok).toBe(false);
  });
});

describe('an empty time trigger timezone', () => {
  it('means the default zone: accepted, and not kept as a zone', () => {
    const parsed = checkWorkflowDefinition(JSON.stringify({ workflow: { id: 'tz', time_triggers: [{ type: 'CRON', cron: '0 0 * * *', timezone: '' }, { type: 'PREDEFINED', expression: '@daily', timezone: '  ' }], steps: [{ step: { id: 's', type: 'NoOp' } }] } }));
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    if (!parsed.ok) return;
    for (const t of parsed.value.workflow.timeTriggers) expect('timezone' in t ? t.timezone : undefined).toBeUndefined();
    expect((workflowToJson(parsed.value.workflow).time_triggers as Record<string, unknown>[]).map((t) => t.timezone)).toEqual([undefined, undefined]);
    // A zone that is not empty is still checked.
    expect(checkWorkflowDefinition(JSON.stringify({ workflow: { id: 'tz', time_triggers: [{ type: 'CRON', cron: '0 0 * * *', timezone: 'Mars/Olympus' }], steps: [{ step: { id: 's', type: 'NoOp' } }] } })).ok).toBe(false);
  });
});

for (const kind of ['pglite', 'postgres'] as DbKind[]) {
  describe(`Maestro defaults at run time (${kind})`, () => {
    let t: TestDb;
    let engine: Engine;
    let errors: unknown[];
    const defs = new InMemoryDefinitions();
    const calls: number[] = [];
    let failures = 0;
    const flaky: StepRuntime = {
      async run() {
        calls.push(performance.now());
        return failures-- > 0 ? { status: 'USER_FAILED', message: 'planned' } : { status: 'SUCCEEDED' };
      },
    };

    beforeAll(async () => {
      t = await openTestDb(kind);
      defs.add(workflow({ workflow: { id: 'nap', steps: [{ step: { id: 'zz', type: 'Sleep' } }] } }));
      defs.add(workflow({ workflow: { id: 'retry-text', steps: [{ step: { id: 's', type: 'Flaky', retry_policy: { error_retry_limit: 1, backoff: { type: 'FIXED_BACKOFF', error_retry_backoff_in_secs: '1 min 40 s' } } } }] } }));
      // time scale 0.01: Maestro's 3 s default sleep is 30 ms, a 100 s backoff 1 s
      ({ engine, errors } = testEngine(t.db, defs, { timeScale: 0.01, pollMs: 20 }));
      engine.registerRuntime('Flaky', flaky);
      await engine.start();
    }, 60_000);
    afterAll(async () => {
      await engine?.stop();
      await t?.close();
    });

    it('a Sleep step without sleep_seconds sleeps Maestro\'s default of 3 seconds', async () => {
      const s = await engine.startWorkflow({ workflowId: 'nap' });
      expect(await engine.waitForInstance('nap', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
      const row = await t.db.query<{ ms: number }>(
        `SELECT EXTRACT(EPOCH FROM a.ended_at - a.started_at)::float8 * 1000 AS ms FROM baton_step_attempts a
           JOIN baton_workflow_instances i ON i.id = a.instance_pk WHERE i.workflow_id = 'nap' AND a.step_id = 'zz'`,
      );
      expect(Number(row.rows[0]!.ms)).toBeGreaterThanOrEqual(29);
      expect(errors).toEqual([]);
    });

    it('a retry waits the backoff written as a duration text', async () => {
      failures = 1;
      calls.length = 0;
      const s = await engine.startWorkflow({ workflowId: 'retry-text' });
      expect(await engine.waitForInstance('retry-text', s.workflowInstanceId, 20_000)).toBe('SUCCEEDED');
      expect(calls).toHaveLength(2);
      expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(990);
      expect(errors).toEqual([]);
    });
  });
}
