import { parseWorkflowJson } from '../../../src/definition/parse.js';
import type { WorkflowRequest } from '../../../src/definition/model.js';
import type { Db } from '../../../src/index.js';
import { InMemoryDefinitions } from '../../../src/runtime/definitions.js';
import { Engine, type EngineOptions } from '../../../src/runtime/engine.js';
import { JOB_ADVANCE } from '../../../src/runtime/context.js';
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

/**
 * Waits (90 s at most) until every instance in `db` has SUCCEEDED while, for each instance once it
 * runs, two advance jobs without a key (so they do not coalesce with the engine's own) are added,
 * keeping advances of one instance racing. Returns the instances raced.
 */
export async function drainRacingAdvances(db: Db): Promise<Set<number>> {
  let draining = true;
  const raced = new Set<number>();
  const duplicates = (async () => {
    while (draining) {
      const res = await db.query<{ id: number }>(
        `WITH r AS (SELECT id FROM baton_workflow_instances WHERE status = 'IN_PROGRESS' AND id <> ALL ($2::bigint[]))
         INSERT INTO baton_jobs (kind, payload) SELECT $1, jsonb_build_object('instancePk', id) FROM r CROSS JOIN generate_series(1, 2) RETURNING (payload ->> 'instancePk')::bigint AS id`,
        [JOB_ADVANCE, [...raced]],
      );
      for (const r of res.rows) raced.add(Number(r.id));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await until(
      'the backlog to drain',
      async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE status <> 'SUCCEEDED'`)).rows[0]!.n === 0,
      90_000,
    );
  } finally {
    draining = false;
    await duplicates;
  }
  return raced;
}
