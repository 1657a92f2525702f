import { parseWorkflowJson } from '../../../src/definition/parse.js';
import type { WorkflowRequest } from '../../../src/definition/model.js';
import type { Db } from '../../../src/index.js';
import { InMemoryDefinitions } from '../../../src/runtime/definitions.js';
import { Engine, type EngineOptions } from '../../../src/runtime/engine.js';
import type { StepRuntime, StepRuntimeContext } from '../../../src/runtime/step-runtime.js';

/** A workflow create request (Maestro JSON shape) → model; fails the test on parse errors. */
export function workflow(json: Record<string, unknown>): WorkflowRequest {
  const parsed = parseWorkflowJson(JSON.stringify(json));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return parsed.value;
}

/** An engine on `db` with fast timings for tests; errors in queue handlers fail loudly. */
export function testEngine(db: Db, definitions: InMemoryDefinitions, opts: Partial<EngineOptions> = {}): { engine: Engine; errors: unknown[] } {
  const errors: unknown[] = [];
  const engine = new Engine({
    db,
    definitions,
    timeScale: 0.001,
    pollMs: 200,
    leaseMs: 10_000,
    onError: (err) => errors.push(err),
    ...opts,
  });
  return { engine, errors };
}

/** Polls `probe` until it gives a value other than undefined or false; fails naming `what` after `ms`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A runtime whose attempts run until aborted (a stop, kill, step action or timeout), then end
 * USER_FAILED; `onAbort` hears which attempt it was, so a test can tell what the engine aborted.
 */
export function runsUntilAborted(onAbort: (ctx: StepRuntimeContext) => void): StepRuntime {
  return {
    run: (_p, ctx) =>
      new Promise((resolve) => {
        const done = (): void => {
          onAbort(ctx);
          resolve({ status: 'USER_FAILED', message: 'aborted' });
        };
        if (ctx.signal.aborted) done();
        else ctx.signal.addEventListener('abort', done, { once: true });
      }),
  };
}

/** Every timeline of the database moves forward: no status ever went back. */
export async function assertTimelinesMonotone(db: Db): Promise<void> {
  const { instanceRank, stepRank } = await import('../../../src/runtime/status.js');
  const steps = await db.query<{ attempt_pk: number; from_status: string | null; to_status: string | null }>(
    'SELECT attempt_pk, from_status, to_status FROM baton_step_timeline WHERE to_status IS NOT NULL ORDER BY attempt_pk, id',
  );
  const last = new Map<number, string>();
  for (const r of steps.rows) {
    const prev = last.get(r.attempt_pk);
    if (prev !== undefined) {
      if (r.from_status !== prev) throw new Error(`attempt ${r.attempt_pk}: transition from ${r.from_status} recorded while it was ${prev}`);
      if (stepRank(r.to_status!) < stepRank(prev) || (stepRank(prev) === 100 && prev !== r.to_status)) {
        throw new Error(`attempt ${r.attempt_pk}: status went back from ${prev} to ${r.to_status}`);
      }
    }
    last.set(r.attempt_pk, r.to_status!);
  }
  const inst = await db.query<{ instance_pk: number; from_status: string | null; to_status: string }>(
    'SELECT instance_pk, from_status, to_status FROM baton_instance_timeline ORDER BY instance_pk, id',
  );
  const lastI = new Map<number, string>();
  for (const r of inst.rows) {
    const prev = lastI.get(r.instance_pk);
    if (prev !== undefined && (r.from_status !== prev || instanceRank(r.to_status) <= instanceRank(prev))) {
      throw new Error(`instance ${r.instance_pk}: status went from ${prev} to ${r.to_status} (recorded from ${r.from_status})`);
    }
    lastI.set(r.instance_pk, r.to_status);
  }
}
