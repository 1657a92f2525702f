/**
 * Engine benchmark, on PGlite (in memory) and PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL,
 * else BATON_TEST_PG_URL, else a throwaway server started here). Measured with the real engine
 * (queue workers, leases, timelines), one process:
 * - workflow start: the `startWorkflow` call (instance id, instance row with its unique request id,
 *   timeline, outbox job), one at a time on a live engine;
 * - step launch: from the moment a step became ready (its permit committed) to its runtime call;
 * - step hand-off: from a step's runtime returning to its successor's runtime call, in a chain
 *   (includes recording the result, the instance advance, and the launch);
 * - fan-out: one NoOp followed by 1,000 parallel NoOps (step_concurrency 1000), steps per second;
 * - foreach (bench/foreach.bench.ts, same environment variables as `bench:foreach`): 10,000 NoOp
 *   iterations on PostgreSQL (wall time, iterations/s, peak RSS), peak RSS as iterations grow to
 *   50,000 (and 100,000 with BENCH_FOREACH_100K=1), and sample-large-foreach-wf on PGlite.
 * BENCH_ENGINE_BACKENDS (default `pglite,postgres`) picks the backends; without postgres the foreach
 * part is skipped too. `start cpu` is this process's CPU time (user + system) during one start
 * call, which a busy machine inflates less than the wall time (PGlite runs in this process).
 * Prints tables and, as its last line, one JSON object with the figures.
 */
import { PGliteDb, PgDb, migrate, engineMigrations, type Db } from '@baton/engine-core';
import { parseWorkflowJson } from '../packages/engine-core/src/definition/parse.js';
import { InMemoryDefinitions } from '../packages/engine-core/src/runtime/definitions.js';
import { Engine } from '../packages/engine-core/src/runtime/engine.js';
import { noOpRuntime } from '../packages/engine-core/src/runtime/step-runtime.js';
import { createDatabase } from '../scripts/infra/postgres.js';
import { foreachBenchmark, foreachOptionsFromEnv, printForeachTable, type ForeachFigures, type ForeachResults } from './foreach.bench.js';
import { benchPostgres } from './support.js';

const STARTS = Number(process.env.BENCH_STARTS ?? 300);
const CHAIN = Number(process.env.BENCH_CHAIN ?? 40);
const CHAINS = Number(process.env.BENCH_CHAINS ?? 5);
const FANOUT = Number(process.env.BENCH_FANOUT ?? 1000);
const BACKENDS = new Set((process.env.BENCH_ENGINE_BACKENDS ?? 'pglite,postgres').split(',').map((b) => b.trim().toLowerCase()).filter(Boolean));
for (const b of BACKENDS) if (b !== 'pglite' && b !== 'postgres') throw new Error(`BENCH_ENGINE_BACKENDS: unknown backend ${JSON.stringify(b)} (use pglite, postgres)`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: percentile(s, 50), p99: percentile(s, 99), n: s.length };
};

function wf(json: unknown) {
  const parsed = parseWorkflowJson(JSON.stringify(json));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.value;
}

function definitions(): InMemoryDefinitions {
  const defs = new InMemoryDefinitions();
  defs.add(wf({ properties: { run_strategy: { rule: 'parallel', workflow_concurrency: 1000 } }, workflow: { id: 'bench-one', steps: [{ step: { id: 's', type: 'NoOp' } }] } }));
  defs.add(
    wf({
      properties: { run_strategy: 'parallel' },
      workflow: {
        id: 'bench-chain',
        steps: Array.from({ length: CHAIN }, (_, i) => ({
          step: { id: `s${i}`, type: 'NoOp', transition: { successors: i + 1 < CHAIN ? { [`s${i + 1}`]: 'true' } : {} } },
        })),
      },
    }),
  );
  defs.add(
    wf({
      properties: { run_strategy: 'parallel', step_concurrency: FANOUT },
      workflow: {
        id: 'bench-fanout',
        steps: [
          { step: { id: 'root', type: 'NoOp', transition: { successors: Object.fromEntries(Array.from({ length: FANOUT }, (_, i) => [`f${i}`, 'true'])) } } },
          ...Array.from({ length: FANOUT }, (_, i) => ({ step: { id: `f${i}`, type: 'NoOp' } })),
        ],
      },
    }),
  );
  return defs;
}

interface Figures {
  startMedianMs: number;
  startP99Ms: number;
  startCpuMedianMs: number;
  launchMedianMs: number;
  launchP99Ms: number;
  handoffMedianMs: number;
  handoffP99Ms: number;
  fanoutSteps: number;
  fanoutSeconds: number;
  fanoutStepsPerSecond: number;
}

async function benchOn(db: Db): Promise<Figures> {
  await migrate(db, [engineMigrations]);
  const engine = new Engine({ db, definitions: definitions(), concurrency: 64, pollMs: 1000 });
  const ready = new Map<number, number>();
  const launch: number[] = [];
  engine.events.on('step.ready', (pk: number, t: number) => ready.set(pk, t));
  engine.events.on('step.launch', (pk: number, t: number) => {
    const r = ready.get(pk);
    if (r !== undefined) launch.push(t - r);
  });
  let lastEnd = 0;
  let lastInstance = -1;
  const handoff: number[] = [];
  engine.registerRuntime('NoOp', {
    async run(params, ctx) {
      const now = performance.now();
      if (ctx.workflowId === 'bench-chain') {
        if (ctx.instanceId === lastInstance && ctx.stepId !== 's0') handoff.push(now - lastEnd);
        lastInstance = ctx.instanceId;
      }
      const out = await noOpRuntime.run(params, ctx);
      lastEnd = performance.now();
      return out;
    },
  });
  await engine.start();

  // Warm-up: compile paths, caches, connections.
  for (let i = 0; i < 20; i++) await engine.startWorkflow({ workflowId: 'bench-one', requestId: `warm-${i}` });
  await engine.waitForInstance('bench-one', 20, 60_000);

  // Each start is measured on a live engine whose previous instance has finished, so the figure
  // is the start call itself, not the queueing behind earlier instances' work.
  const starts: number[] = [];
  const startCpu: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await engine.startWorkflow({ workflowId: 'bench-one', requestId: `start-${i}` });
    starts.push(performance.now() - t0);
    const cpu = process.cpuUsage(c0);
    startCpu.push((cpu.user + cpu.system) / 1000);
    await engine.waitForInstance('bench-one', r.workflowInstanceId, 60_000);
  }
  launch.length = 0;

  for (let c = 0; c < CHAINS; c++) {
    const r = await engine.startWorkflow({ workflowId: 'bench-chain', requestId: `chain-${c}` });
    await engine.waitForInstance('bench-chain', r.workflowInstanceId, 120_000);
  }
  const launchStats = stats(launch);
  const handoffStats = stats(handoff);

  const t0 = performance.now();
  const f = await engine.startWorkflow({ workflowId: 'bench-fanout', requestId: 'fanout' });
  const status = await engine.waitForInstance('bench-fanout', f.workflowInstanceId, 600_000);
  const fanoutSeconds = (performance.now() - t0) / 1000;
  if (status !== 'SUCCEEDED') throw new Error(`fan-out ended ${status}`);
  await engine.stop();
  const s = stats(starts);
  return {
    startMedianMs: s.median,
    startP99Ms: s.p99,
    startCpuMedianMs: stats(startCpu).median,
    launchMedianMs: launchStats.median,
    launchP99Ms: launchStats.p99,
    handoffMedianMs: handoffStats.median,
    handoffP99Ms: handoffStats.p99,
    fanoutSteps: FANOUT + 1,
    fanoutSeconds,
    fanoutStepsPerSecond: (FANOUT + 1) / fanoutSeconds,
  };
}

function foreachSummary(r: ForeachResults): Record<string, unknown> {
  const round1 = (x: ForeachFigures) => ({
    ...x,
    seconds: Math.round(x.seconds * 10) / 10,
    iterationsPerSecond: Math.round(x.iterationsPerSecond * 10) / 10,
  });
  const base = r.postgres['10000'];
  return {
    concurrency: r.concurrency,
    postgres10000: base ? round1(base) : null,
    memoryGrowth: {
      peakRssMbByIterations: Object.fromEntries(Object.entries(r.postgres).map(([n, x]) => [n, x.peakRssMb])),
      ratio: r.rssGrowth ?? null,
      notRun: r.notRun,
    },
    runs: Object.fromEntries(Object.entries(r.postgres).map(([n, x]) => [n, round1(x)])),
    pgliteSampleLargeForeach: r.pgliteSample ? round1(r.pgliteSample) : null,
  };
}

async function main(): Promise<void> {
  const foreachOptions = foreachOptionsFromEnv();
  const results: Record<string, Figures> = {};
  if (BACKENDS.has('pglite')) {
    const lite = await PGliteDb.open();
    results.pglite = await benchOn(lite);
    await lite.close();
  }

  let foreach: ForeachResults | undefined;
  const server = BACKENDS.has('postgres') ? await benchPostgres() : undefined;
  if (server) {
    try {
      const database = await createDatabase(server.adminUrl, 'baton_bench');
      const pg = new PgDb({ connectionString: database.url, max: 20 });
      try {
        results.postgres = await benchOn(pg);
      } finally {
        await pg.close();
        await database.drop();
      }
      foreach = await foreachBenchmark(foreachOptions, server.adminUrl, (line) => console.error(line));
    } finally {
      await server.stop();
    }
  }

  const f = (n: number) => n.toFixed(2).padStart(9);
  console.log(`engine benchmark (starts ${STARTS}, chain ${CHAINS}×${CHAIN} NoOps, fan-out 1+${FANOUT} NoOps)`);
  console.log('backend    | start med | start cpu | start p99 | launch med | launch p99 | handoff med | handoff p99 | fan-out s | steps/s');
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(10)} |${f(r.startMedianMs)}  |${f(r.startCpuMedianMs)}  |${f(r.startP99Ms)}  |${f(r.launchMedianMs)}   |${f(r.launchP99Ms)}   |${f(r.handoffMedianMs)}    |${f(r.handoffP99Ms)}    |${f(r.fanoutSeconds)}  |${f(r.fanoutStepsPerSecond)}`,
    );
  }
  const round = (o: Figures) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  const pgr = results.postgres;
  if (!pgr || !foreach) {
    console.log(JSON.stringify({ benchmark: 'engine', unit: 'ms', ...Object.fromEntries(Object.entries(results).map(([k, v]) => [k, round(v)])) }));
    return;
  }
  console.log(`targets on PostgreSQL: start median ≤ 5 ms: ${pgr.startMedianMs <= 5 ? 'met' : 'missed'}; step launch median ≤ 2 ms: ${pgr.launchMedianMs <= 2 ? 'met' : 'missed'}`);
  printForeachTable(foreach);
  const fe = foreach.postgres['10000'];
  console.log(
    `target on PostgreSQL: foreach of 10,000 NoOps ≥ 300 iterations/s: ${fe ? (fe.iterationsPerSecond >= 300 ? 'met' : 'missed') : 'not run'}; ` +
      `sample-large-foreach-wf < 30 s: ${foreach.pgliteSample ? (foreach.pgliteSample.seconds < 30 ? 'met' : 'missed') : 'not run'}`,
  );
  // Engine figures are in ms; the foreach section carries its own units in its field names.
  console.log(JSON.stringify({ benchmark: 'engine', unit: 'ms', pglite: results.pglite ? round(results.pglite) : null, postgres: round(pgr), foreach: foreachSummary(foreach) }));
}

await main();
