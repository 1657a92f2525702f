/**
 * Foreach benchmark with the real engine (queue workers, leases, timelines). Part of
 * `npm run bench:engine` (which imports `foreachBenchmark`); `npm run bench:foreach` runs it alone.
 * - PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL, else a throwaway
 *   server started here): one foreach of N NoOp iterations (100 × N/100 loop values) for each N in
 *   BENCH_FOREACH_SIZES (multiples of 100, default 10000,50000; empty for none), plus 100000 with
 *   BENCH_FOREACH_100K=1 (it takes minutes), concurrency BENCH_FOREACH_CONCURRENCY (default 200):
 *   wall time, iterations per second, SQL statements and transactions per iteration (the work,
 *   whatever the machine's load), and RSS (peak while it ran, sampled every 100 ms, and at the
 *   end). Each run is a fresh process, so its peak RSS is its own: a peak that stays flat as N
 *   grows shows iterations are not materialised up front (`rssGrowth`: largest / 10,000).
 * - PGlite: Maestro's sample-large-foreach-wf (1,098 iterations of NoOp → Sleep 1 s) with the
 *   time scale at 0.0005: wall time (skip with BENCH_FOREACH_SAMPLE=0).
 * Standalone, it prints a table and, as its last line, one JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGliteDb, PgDb, migrate, engineMigrations, type Db } from '@baton/engine-core';
import { parseWorkflowJson } from '../packages/engine-core/src/definition/parse.js';
import { InMemoryDefinitions } from '../packages/engine-core/src/runtime/definitions.js';
import { Engine } from '../packages/engine-core/src/runtime/engine.js';
import { createDatabase, startPostgres } from '../scripts/infra/postgres.js';
import { benchPgUrlFromEnv } from './support.js';
import { counting } from './db-counting.js';

const thisFile = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(thisFile), '..');
const FULL_SIZE = 100_000;

export interface ForeachOptions {
  /** Iteration counts run on PostgreSQL, each in its own process. */
  sizes: number[];
  concurrency: number;
  /** Also run Maestro's sample-large-foreach-wf on PGlite. */
  sample: boolean;
}

export function foreachOptionsFromEnv(): ForeachOptions {
  const sizes = (process.env.BENCH_FOREACH_SIZES ?? '10000,50000').split(',').filter((s) => s.trim() !== '').map((s) => Number(s.trim()));
  if (process.env.BENCH_FOREACH_100K === '1' && !sizes.includes(FULL_SIZE)) sizes.push(FULL_SIZE);
  for (const n of sizes) {
    if (!Number.isSafeInteger(n) || n < 100 || n % 100 !== 0) throw new Error(`BENCH_FOREACH_SIZES: not a positive multiple of 100: ${n}`);
  }
  const concurrency = Number(process.env.BENCH_FOREACH_CONCURRENCY ?? 200);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error(`BENCH_FOREACH_CONCURRENCY: not a positive integer: ${concurrency}`);
  return { sizes: [...new Set(sizes)].sort((a, b) => a - b), concurrency, sample: process.env.BENCH_FOREACH_SAMPLE !== '0' };
}

export interface ForeachFigures {
  iterations: number;
  seconds: number;
  iterationsPerSecond: number;
  peakRssMb: number;
  endRssMb: number;
  /** SQL statements (BEGIN/COMMIT not counted) and transactions per iteration: the work, whatever the machine's load. */
  statementsPerIteration: number;
  transactionsPerIteration: number;
}

export interface ForeachResults {
  concurrency: number;
  /** PostgreSQL runs by iteration count. */
  postgres: Record<string, ForeachFigures>;
  /** Peak RSS of the largest run over the 10,000 run's (when both ran). */
  rssGrowth?: { from: number; to: number; ratio: number };
  /** Sizes not run, and why. */
  notRun: string[];
  pgliteSample?: ForeachFigures;
}

function wf(text: string) {
  const parsed = parseWorkflowJson(text);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return parsed.value;
}

function foreachOf(n: number, concurrency: number) {
  return wf(
    JSON.stringify({
      workflow: {
        id: `bench-foreach-${n}`,
        steps: [
          {
            foreach: {
              id: 'loop',
              concurrency,
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

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

async function runForeach(raw: Db, defs: InMemoryDefinitions, workflowId: string, iterations: number, timeScale = 1): Promise<ForeachFigures> {
  const { db, counts } = counting(raw);
  const engine = new Engine({ db, definitions: defs, timeScale, pollMs: 500, onError: (e) => console.error('engine error', e) });
  await engine.start();
  counts.statements = 0;
  counts.transactions = 0;
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
  const per = (n: number) => Math.round((n / iterations) * 100) / 100;
  return {
    iterations,
    seconds,
    iterationsPerSecond: iterations / seconds,
    peakRssMb: mb(peak),
    endRssMb: mb(process.memoryUsage().rss),
    statementsPerIteration: per(counts.statements),
    transactionsPerIteration: per(counts.transactions),
  };
}

/** One measured run, in this process: `postgres:<n>` (needs BENCH_FOREACH_ADMIN_URL) or `sample`. */
async function runOne(spec: string, concurrency: number): Promise<ForeachFigures> {
  if (spec === 'sample') {
    const lite = await PGliteDb.open();
    try {
      await migrate(lite, [engineMigrations]);
      const defs = new InMemoryDefinitions();
      defs.add(wf(readFileSync(path.resolve(repoRoot, '../shared/maestro-samples/sample-large-foreach-wf.json'), 'utf8')));
      return await runForeach(lite, defs, 'sample-large-foreach-wf', 1098, 0.0005);
    } finally {
      await lite.close();
    }
  }
  const n = Number(spec.slice('postgres:'.length));
  const database = await createDatabase(process.env.BENCH_FOREACH_ADMIN_URL!, 'baton_bench');
  const pg = new PgDb({ connectionString: database.url, max: 20 });
  try {
    await migrate(pg, [engineMigrations]);
    const defs = new InMemoryDefinitions();
    defs.add(foreachOf(n, concurrency));
    return await runForeach(pg, defs, `bench-foreach-${n}`, n);
  } finally {
    await pg.close();
    await database.drop();
  }
}

/** Runs `runOne(spec)` in a fresh process (same loader flags) and reads its JSON last line. */
function inChild(spec: string, concurrency: number, adminUrl: string | undefined): Promise<ForeachFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', thisFile, '--one', spec], {
      env: { ...process.env, BENCH_FOREACH_ADMIN_URL: adminUrl ?? '', BENCH_FOREACH_CONCURRENCY: String(concurrency) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`foreach run ${spec} exited ${code}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(last) as ForeachFigures);
      } catch {
        reject(new Error(`foreach run ${spec} printed no figures: ${out.slice(-2000)}`));
      }
    });
  });
}

/** The foreach section: PostgreSQL runs at each size (each in its own process), then the PGlite sample. */
export async function foreachBenchmark(opts: ForeachOptions, adminUrl: string | undefined, log: (line: string) => void = () => {}): Promise<ForeachResults> {
  const results: ForeachResults = { concurrency: opts.concurrency, postgres: {}, notRun: [] };
  if (opts.sizes.length > 0 && !adminUrl) throw new Error('foreach benchmark: no PostgreSQL URL');
  for (const n of opts.sizes) {
    log(`foreach: ${n} NoOp iterations on PostgreSQL...`);
    const x = await inChild(`postgres:${n}`, opts.concurrency, adminUrl);
    results.postgres[String(n)] = x;
    log(`foreach: ${n} iterations in ${x.seconds.toFixed(1)} s (${x.iterationsPerSecond.toFixed(1)}/s), peak RSS ${x.peakRssMb} MB`);
  }
  if (!opts.sizes.includes(FULL_SIZE)) results.notRun.push(`${FULL_SIZE}: minutes long, run with BENCH_FOREACH_100K=1`);
  const base = results.postgres['10000'];
  const largest = opts.sizes.at(-1);
  if (base && largest !== undefined && largest > 10_000) {
    const top = results.postgres[String(largest)]!;
    results.rssGrowth = { from: 10_000, to: largest, ratio: Math.round((top.peakRssMb / base.peakRssMb) * 100) / 100 };
  }
  if (opts.sample) {
    log('foreach: sample-large-foreach-wf on PGlite...');
    results.pgliteSample = await inChild('sample', opts.concurrency, adminUrl);
    log(`foreach: sample-large-foreach-wf in ${results.pgliteSample.seconds.toFixed(1)} s`);
  }
  return results;
}

export function printForeachTable(r: ForeachResults): void {
  const f = (n: number, w = 9) => n.toFixed(1).padStart(w);
  console.log(`foreach benchmark (NoOp iterations, concurrency ${r.concurrency}; each run in its own process)`);
  console.log('run                              | iterations |   seconds | iter/s | peak RSS MB | end RSS MB | SQL/iter | tx/iter');
  const rows: [string, ForeachFigures][] = Object.entries(r.postgres).map(([n, x]) => [`postgres-${n}`, x]);
  if (r.pgliteSample) rows.push(['pglite-sample-large-foreach-wf', r.pgliteSample]);
  for (const [name, x] of rows) {
    console.log(`${name.padEnd(32)} | ${String(x.iterations).padStart(10)} | ${f(x.seconds)} | ${f(x.iterationsPerSecond, 6)} | ${f(x.peakRssMb, 11)} | ${f(x.endRssMb, 10)} | ${f(x.statementsPerIteration, 8)} | ${f(x.transactionsPerIteration, 7)}`);
  }
  for (const why of r.notRun) console.log(`not run: ${why}`);
  if (r.rssGrowth) console.log(`peak RSS ${r.rssGrowth.to} / ${r.rssGrowth.from} iterations: ×${r.rssGrowth.ratio}`);
}

async function main(): Promise<void> {
  const opts = foreachOptionsFromEnv();
  let adminUrl = benchPgUrlFromEnv();
  let stopServer: (() => Promise<void>) | undefined;
  if (!adminUrl && opts.sizes.length > 0) {
    const server = await startPostgres();
    adminUrl = server.url;
    stopServer = () => server.stop();
  }
  let results: ForeachResults;
  try {
    results = await foreachBenchmark(opts, adminUrl, (line) => console.error(line));
  } finally {
    await stopServer?.();
  }
  printForeachTable(results);
  console.log(JSON.stringify({ benchmark: 'foreach', ...results }));
}

const oneAt = process.argv.indexOf('--one');
if (oneAt >= 0) {
  runOne(process.argv[oneAt + 1] ?? '', Number(process.env.BENCH_FOREACH_CONCURRENCY ?? 200)).then(
    // Exit once the line is written: a stray timer must not keep the parent waiting.
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`, () => process.exit(0)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
