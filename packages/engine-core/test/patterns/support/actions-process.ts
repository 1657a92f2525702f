/**
 * An engine process for the step-action crash tests, run with `node --import tsx`:
 *
 *   actions-process.ts <db-url> <worker-id>    workers until SIGTERM (or SIGKILL)
 *
 * `Counted` records each execution in `test_executions` before it succeeds; `Hang` runs until its
 * attempt is aborted (recorded in `test_aborts`). Each instance completion hook call is recorded in `test_instance_ends`, so
 * the test sees how many times an ending happened, whichever process did it.
 */
import { PgDb } from '../../../src/index.js';
import { InMemoryDefinitions } from '../../../src/runtime/definitions.js';
import { Engine } from '../../../src/runtime/engine.js';
import { actionWorkflows } from './actions-workflows.js';

const [url, workerId] = process.argv.slice(2);
if (!url || !workerId) {
  console.error('usage: actions-process.ts <db-url> <worker-id>');
  process.exit(2);
}

const db = new PgDb({ connectionString: url, max: 8, applicationName: `baton-test-${process.pid}` });
const definitions = new InMemoryDefinitions();
for (const wf of actionWorkflows()) definitions.add(wf);

const engine = new Engine({ db, definitions, workerId, leaseMs: 1500, pollMs: 200, timeScale: 0.01, concurrency: 16 });
engine.registerRuntime('Counted', {
  async run(_params, ctx) {
    await db.query('INSERT INTO test_executions (attempt_pk, workflow_id, instance_id, step_id, pid) VALUES ($1, $2, $3, $4, $5)', [
      ctx.attemptPk, ctx.workflowId, ctx.instanceId, ctx.stepId, process.pid,
    ]);
    return { status: 'SUCCEEDED' };
  },
});
engine.registerRuntime('Hang', {
  run: (_params, ctx) =>
    new Promise((resolve) => {
      const done = (): void => {
        const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason);
        void db
          .query('INSERT INTO test_aborts (attempt_pk, pid, reason) VALUES ($1, $2, $3)', [ctx.attemptPk, process.pid, reason])
          .finally(() => resolve({ status: 'USER_FAILED', message: 'aborted' }));
      };
      if (ctx.signal.aborted) done();
      else ctx.signal.addEventListener('abort', done, { once: true });
    }),
});
engine.onInstanceCompleted(async (tx, _outbox, e) => {
  await tx.query('INSERT INTO test_instance_ends (instance_pk, status, pid) VALUES ($1, $2, $3)', [e.instancePk, e.status, process.pid]);
});
await engine.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void engine.stop().then(() => db.close()).then(() => process.exit(0));
});
