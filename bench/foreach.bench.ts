/**
 * Foreach benchmark with the real engine (queue workers, leases, timelines), one process:
 * - PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL, else a throwaway
 *   server started here): one foreach of N NoOp iterations (100 × N/100 loop values) for each N
 *   in BENCH_FOREACH_SIZES (multiples of 100, default 10000; empty for none), concurrency BENCH_FOREACH_CONCURRENCY (default 200) — wall time, iterations
 *   per second, and this process's RSS (peak while it ran, sampled every 100 ms, and at the end).
 *   RSS that stays flat as N grows shows iterations are not materialised up front.
 * - PGlite: Maestro's sample-large-foreach-wf (1,098 iterations of NoOp → Sleep 1 s) with the
 *   time scale at 0.0005 — wall time (skip with BENCH_FOREACH_SAMPLE=0).
 * Prints a table and, as its last line, one JSON object with the figures.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGliteDb, PgDb, migrate, engineMigrations, type Db } from '@baton/engine-core';
import { parseWorkflowJson } from '../packages/engine-core/src/definition/parse.js';
import { InMemoryDefinitions } from '../packages/engine-core/src/runtime/definitions.js';
import { Engine } from '../packages/engine-core/src/runtime/engine.js';
import { createDatabase, startPostgres } from '../scripts/infra/postgres.js';

const SIZES = (process.env.BENCH_FOREACH_SIZES ?? '10000').split(',').filter((s) => s.trim() !== '').map((s) => Number(s.trim()));
const CONCURRENCY = Number(process.env.BENCH_FOREACH_CONCURRENCY ?? 200);
const SAMPLE = process.env.BENCH_FOREACH_SAMPLE !== '0';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function wf(text: string) {
  const parsed = parseWorkflowJson(text);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return parsed.value;
}

function foreachOf(n: number) {
  return wf(
    JSON.stringify({
      workflow: {
        id: `bench-foreach-${n}`,
        steps: [
          {
            foreach: {
              id: 'loop',
              concurrency: CONCURRENCY,
              // 100 × n/100: the product is never built, and neither array hits SEL's size limits.
              params: {
                loop_params: {
                  type: 'MAP',
                  value: {
                    i: { expression: 'Util.intsBetween(0, 100, 1);', type: 'LONG_ARRAY' },
                    j: { expression: `Util.intsBetween(0, ${n / 100}, 1);`, type: 'LONG_ARRAY' },
                  },
                },
              },
              steps: [{ step: { id: 'noop', type: 'NoOp' } }],
            },
          },
        ],
      },
    }),
  );
}

interface Figures {
  iterations: number;
  seconds: number;
  iterationsPerSecond: number;
  peakRssMb: number;
  endRssMb: number;
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

async function runForeach(db: Db, defs: InMemoryDefinitions, workflowId: string, iterations: number, timeScale = 1): Promise<Figures> {
  const engine = new Engine({ db, definitions: defs, timeScale, pollMs: 500, onError: (e) => console.error('engine error', e) });
  await engine.start();
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  try {
    const s = await engine.startWorkflow({ workflowId });
    const status = await engine.waitForInstance(workflowId, s.workflowInstanceId, 3_600_000);
    if (status !== 'SUCCEEDED') throw new Error(`${workflowId} ended ${status}`);
  } finally {
    clearInterval(sampler);
    await engine.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { iterations, seconds, iterationsPerSecond: iterations / seconds, peakRssMb: mb(peak), endRssMb: mb(process.memoryUsage().rss) };
}

async function main(): Promise<void> {
  const results: Record<string, Figures> = {};
  let adminUrl = process.env.BATON_BENCH_PG_URL ?? process.env.DATABASE_URL ?? process.env.BATON_TEST_PG_URL;
  let stopServer: (() => Promise<void>) | undefined;
  if (!adminUrl && SIZES.length > 0) {
    const server = await startPostgres();
    adminUrl = server.url;
    stopServer = () => server.stop();
  }
  try {
    for (const n of SIZES) {
      if (!Number.isSafeInteger(n) || n < 100 || n % 100 !== 0) throw new Error(`BENCH_FOREACH_SIZES: not a positive multiple of 100: ${n}`);
      const database = await createDatabase(adminUrl!, 'baton_bench');
      const pg = new PgDb({ connectionString: database.url, max: 20 });
      try {
        await migrate(pg, [engineMigrations]);
        const defs = new InMemoryDefinitions();
        defs.add(foreachOf(n));
        results[`postgres-${n}`] = await runForeach(pg, defs, `bench-foreach-${n}`, n);
      } finally {
        await pg.close();
        await database.drop();
      }
    }
  } finally {
    await stopServer?.();
  }

  if (SAMPLE) {
    const lite = await PGliteDb.open();
    await migrate(lite, [engineMigrations]);
    const defs = new InMemoryDefinitions();
    defs.add(wf(readFileSync(path.resolve(repoRoot, '../shared/maestro-samples/sample-large-foreach-wf.json'), 'utf8')));
    results['pglite-sample-large-foreach-wf'] = await runForeach(lite, defs, 'sample-large-foreach-wf', 1098, 0.0005);
    await lite.close();
  }

  const f = (n: number, w = 9) => n.toFixed(1).padStart(w);
  console.log(`foreach benchmark (NoOp iterations, concurrency ${CONCURRENCY})`);
  console.log('run                              | iterations |   seconds | iter/s | peak RSS MB | end RSS MB');
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(32)} | ${String(r.iterations).padStart(10)} | ${f(r.seconds)} | ${f(r.iterationsPerSecond, 6)} | ${f(r.peakRssMb, 11)} | ${f(r.endRssMb, 10)}`);
  }
  console.log(JSON.stringify(results));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
