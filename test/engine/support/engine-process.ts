/**
 * A Baton engine process for cross-process tests, run with `node --import tsx`.
 *
 *   engine-process.ts run   <db-url> <worker-id> [<starts.json>]   workers until SIGTERM; starts the listed workflows first
 *   engine-process.ts burst <db-url> <go-at-ms> <requests.json>    fires the start requests at once, prints results as JSON
 *
 * Definitions are the Maestro samples plus the crash-test workflow, loaded in every process the
 * same way (versions are immutable, so each process holds identical copies). The Sleep runtime is
 * wrapped to record each call's start and end in `test_step_runs`, which the crash test reads to
 * prove no attempt ever ran twice at once.
 */
import { PgDb } from '../../../packages/engine-core/src/index.js';
import { InMemoryDefinitions } from '../../../packages/engine-core/src/runtime/definitions.js';
import { Engine } from '../../../packages/engine-core/src/runtime/engine.js';
import { sleepRuntime } from '../../../packages/engine-core/src/runtime/step-runtime.js';
import type { StartWorkflowRequest } from '../../../packages/engine-core/src/runtime/start.js';
import { crashWorkflows } from './workflows.js';

const [mode, url, arg3, arg4] = process.argv.slice(2);
if (!mode || !url || !arg3) {
  console.error('usage: engine-process.ts run|burst <db-url> ...');
  process.exit(2);
}

const db = new PgDb({ connectionString: url, max: 20, applicationName: `baton-test-${process.pid}` });
const definitions = new InMemoryDefinitions();
for (const wf of crashWorkflows()) definitions.add(wf);

if (mode === 'burst') {
  const engine = new Engine({ db, definitions });
  const requests = JSON.parse(arg4 ?? '[]') as StartWorkflowRequest[];
  const wait = Number(arg3) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const results = await Promise.all(requests.map((r) => engine.startWorkflow(r)));
  process.stdout.write(`${JSON.stringify(results)}\n`);
  await db.close();
  process.exit(0);
}

const engine = new Engine({ db, definitions, workerId: arg3, leaseMs: 1500, pollMs: 200, timeScale: 0.01, concurrency: 16 });
engine.registerRuntime('Sleep', {
  async run(params, ctx) {
    const rec = await db.query<{ id: number }>(
      'INSERT INTO test_step_runs (attempt_pk, pid, resumed) VALUES ($1, $2, $3) RETURNING id',
      [ctx.attemptPk, process.pid, ctx.resumed],
    );
    try {
      return await sleepRuntime.run(params, ctx);
    } finally {
      await db.query('UPDATE test_step_runs SET ended_at = clock_timestamp() WHERE id = $1', [rec.rows[0]!.id]);
    }
  },
});
await engine.start();
const starts = JSON.parse(arg4 ?? '[]') as StartWorkflowRequest[];
for (const s of starts) await engine.startWorkflow(s);
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void engine.stop().then(() => db.close()).then(() => process.exit(0));
});
