/**
 * Before/after benchmark comparison, made to tell a 5% change apart on a machine whose figures
 * drift by more than that from run to run (docs/benchmarks.md):
 *
 *   tsx scripts/bench-compare.ts --sel <before> <after> --engine <before> <after>
 *        [--sel-processes 3] [--sel-rounds 15] [--engine-runs 5] [--engine-starts 100]
 *
 * <before>/<after> are worktrees of the two revisions (with node_modules), or git revisions,
 * checked out under .cache/bench-compare (scripts/bench-compare/revision.ts). Either pair may be
 * left out.
 * - SEL: both versions in ONE process, the six programs of bench/sel.bench.ts compiled and cold
 *   in alternating rounds (same batch size); per figure the median of the per-round ratios
 *   after/before with a 95% interval. Several processes, half of them starting with "after".
 * - Engine: each worktree's bench/engine.bench.ts in turn, N runs each (foreach off, fan-out 10);
 *   ratios of the medians of start, launch and hand-off per backend with 95% intervals; then the
 *   SQL statements and transactions per start call, per one-step instance and per chain step of
 *   each version (scripts/bench-compare/engine-probe.ts), which must be equal.
 * Prints tables, the load average, and as its last line one JSON object whose `within5pct` says
 * per figure whether the whole 95% interval of after/before lies in [0.95, 1.05].
 */
import os from 'node:os';
import { compareEngine, type EngineComparison } from './bench-compare/engine.js';
import { worktreeFor } from './bench-compare/revision.js';
import { compareSel, type SelFigure } from './bench-compare/sel.js';

function parseArgs(argv: string[]) {
  const opts = { sel: undefined as [string, string] | undefined, engine: undefined as [string, string] | undefined, selProcesses: 3, selRounds: 15, engineRuns: 5, engineStarts: 100 };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag}: not a positive whole number: ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--sel' || a === '--engine') {
      const pair = [argv[i + 1], argv[i + 2]];
      if (!pair[0] || !pair[1]) throw new Error(`${a} needs two worktree paths or git revisions: before and after`);
      opts[a === '--sel' ? 'sel' : 'engine'] = [pair[0], pair[1]];
      i += 2;
    } else if (a === '--sel-processes') opts.selProcesses = num(a, argv[++i]);
    else if (a === '--sel-rounds') opts.selRounds = num(a, argv[++i]);
    else if (a === '--engine-runs') opts.engineRuns = num(a, argv[++i]);
    else if (a === '--engine-starts') opts.engineStarts = num(a, argv[++i]);
    else throw new Error(`unknown argument: ${a} (usage: bench-compare.ts --sel <before> <after> --engine <before> <after> [--sel-processes N] [--sel-rounds N] [--engine-runs N] [--engine-starts N])`);
  }
  if (!opts.sel && !opts.engine) throw new Error('nothing to compare: give --sel <before> <after> and/or --engine <before> <after>');
  return opts;
}

const r3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
const ci = (c: readonly [number, number]) => `[${r3(c[0])}, ${r3(c[1])}]`;
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = (s: string) => console.error(`${new Date().toISOString()} ${s}`);
  for (const k of ['sel', 'engine'] as const) {
    const pair = opts[k];
    if (pair) opts[k] = [worktreeFor(pair[0], log), worktreeFor(pair[1], log)];
  }
  const t0 = performance.now();
  const loadBefore = load();
  let sel: SelFigure[] | undefined;
  let engine: EngineComparison | undefined;
  if (opts.sel) sel = await compareSel(...opts.sel, { processes: opts.selProcesses, rounds: opts.selRounds, log });
  if (opts.engine) engine = await compareEngine(...opts.engine, { runs: opts.engineRuns, starts: opts.engineStarts, log });

  if (sel) {
    console.log(`SEL: ${opts.sel![0]} (before) vs ${opts.sel![1]} (after), ${opts.selProcesses} processes × ${opts.selRounds} paired rounds; CPU ns per evaluation`);
    console.log('figure                      before      after   after/before  95% interval      wall ratio  within 5%');
    for (const f of sel) {
      console.log(`${f.figure.padEnd(24)}${String(f.beforeNs).padStart(10)}${String(f.afterNs).padStart(11)}${r3(f.ratio).padStart(15)}  ${ci(f.ci).padEnd(18)}${r3(f.wallRatio).padStart(10)}  ${f.within5pct ? 'yes' : f.notSlowerBy5pct ? 'not slower' : 'no'}`);
    }
  }
  if (engine) {
    console.log(`engine: ${opts.engine![0]} (before) vs ${opts.engine![1]} (after), ${opts.engineRuns} runs each, alternating; medians of the runs' medians`);
    console.log('figure                                    before      after  after/before  95% interval      within 5%');
    for (const f of engine.figures) {
      console.log(`${f.figure.padEnd(38)}${r3(f.before).padStart(10)}${r3(f.after).padStart(11)}${r3(f.ratio).padStart(14)}  ${ci(f.ci).padEnd(18)}${f.within5pct ? 'yes' : f.notSlowerBy5pct ? 'not slower' : 'no'}`);
    }
    console.log(`SQL per start call / one-step instance / chain step: ${engine.probe.sameStatements ? 'the same in both versions' : 'DIFFERENT'}`);
    for (const d of engine.probe.differences) console.log(`  ${d}`);
    for (const side of ['before', 'after'] as const) {
      for (const [backend, phases] of Object.entries(engine.probe[side])) {
        const cells = (['startCall', 'oneStepInstance', 'chainStep'] as const).map((k) => {
          const x = phases[k];
          const m = (v: number | { median: number }) => (typeof v === 'number' ? v : v.median);
          return `${k} ${m(x.statements)} stmts/${m(x.transactions)} tx (sql ${x.sql})`;
        });
        console.log(`  ${side.padEnd(6)} ${backend.padEnd(8)} ${cells.join('; ')}`);
      }
    }
  }
  const loadAfter = load();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`load average (1/5/15 min): ${loadBefore} at the start, ${loadAfter} at the end; ${os.cpus().length} CPUs; ${seconds.toFixed(0)} s`);
  const within5pct: Record<string, boolean> = {};
  for (const f of [...(sel ?? []), ...(engine?.figures ?? [])]) within5pct[f.figure] = f.within5pct;
  if (engine) within5pct['engine same SQL statements'] = engine.probe.sameStatements;
  console.log(
    JSON.stringify({
      benchmark: 'compare',
      within5pct,
      sel: sel?.map((f) => ({ ...f, ratio: Number(r3(f.ratio)), ci: f.ci.map((x) => Number(r3(x))) })) ?? null,
      engine: engine ? { figures: engine.figures.map((f) => ({ ...f, ratio: Number(r3(f.ratio)), ci: f.ci.map((x) => Number(r3(x))) })), probe: engine.probe } : null,
      loadAverage: { start: loadBefore, end: loadAfter },
      seconds: Math.round(seconds),
    }),
  );
}

await main();
