/**
 * The engine half of scripts/bench-compare.ts. Two code bases need two processes, so each
 * worktree's own bench/engine.bench.ts runs in turn (before,after / after,before, …) against one
 * PostgreSQL server, with the foreach section off and a small fan-out (neither is compared);
 * then engine-probe.ts counts each version's SQL per start and per step, which no load can move.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../infra/postgres.js';
import { runChild } from './child.js';
import { median, notSlowerBy5pct, ratioOfMedians, within5pct } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const BACKENDS = ['pglite', 'postgres'] as const;
const FIGURES = ['startMedianMs', 'launchMedianMs', 'handoffMedianMs'] as const;

type BenchJson = Record<(typeof BACKENDS)[number], Record<(typeof FIGURES)[number], number>>;

export interface EngineFigure {
  figure: string;
  before: number;
  after: number;
  ratio: number;
  ci: [number, number];
  within5pct: boolean;
  notSlowerBy5pct: boolean;
  /** Each run's figure (each probe's samples), before and after. */
  samples: { before: number[]; after: number[] };
}

export interface EngineComparison {
  figures: EngineFigure[];
  probe: { before: Probe; after: Probe; sameStatements: boolean; differences: string[] };
}

export interface EngineOptions {
  runs: number;
  starts: number;
  log: (s: string) => void;
}

interface Counted {
  statements: number | { min: number; median: number };
  transactions: number | { min: number; median: number };
  sql: string;
}
export interface ProbeBackend {
  startCall: Counted;
  oneStepInstance: Counted;
  chainStep: Counted;
  cpuUs: Record<string, number[]>;
  sqlTexts: Record<string, number>;
}
type Probe = Record<string, ProbeBackend>;

const mid = (v: Counted['statements']): number => (typeof v === 'number' ? v : v.median);
const least = (v: Counted['statements']): number => (typeof v === 'number' ? v : v.min);

/**
 * Whether two versions did the same SQL work: the start call exactly (it runs alone); per
 * one-step instance and per chain step the same least count (the uncontended path) and medians
 * within 2.5% (on PostgreSQL a few statements per instance depend on timing: a one-step instance
 * runs 39 to 43 in one version); and the same set of SQL texts overall.
 * Returns the differences found, none when the work is the same.
 */
function workDifferences(before: Probe, after: Probe): string[] {
  const out: string[] = [];
  for (const b of Object.keys(before)) {
    const x = before[b]!;
    const y = after[b];
    if (!y) {
      out.push(`${b}: not probed after`);
      continue;
    }
    for (const k of ['statements', 'transactions'] as const) {
      if (mid(x.startCall[k]) !== mid(y.startCall[k])) out.push(`${b} start call ${k}: ${mid(x.startCall[k])} → ${mid(y.startCall[k])}`);
      for (const phase of ['oneStepInstance', 'chainStep'] as const) {
        const [p, q] = [x[phase][k], y[phase][k]];
        if (least(p) !== least(q) || Math.abs(mid(q) / mid(p) - 1) > 0.025) out.push(`${b} ${phase} ${k} (least, median): ${least(p)}, ${mid(p)} → ${least(q)}, ${mid(q)}`);
      }
    }
    if (x.startCall.sql !== y.startCall.sql) out.push(`${b} start call: other SQL texts`);
    for (const sql of Object.keys(x.sqlTexts)) if (!(sql in y.sqlTexts)) out.push(`${b} only before: ${sql.slice(0, 160)}`);
    for (const sql of Object.keys(y.sqlTexts)) if (!(sql in x.sqlTexts)) out.push(`${b} only after: ${sql.slice(0, 160)}`);
  }
  return out;
}

function figure(name: string, before: number[], after: number[], seed: number): EngineFigure {
  const { ratio, ci } = ratioOfMedians(before, after, seed);
  return { figure: name, before: median(before), after: median(after), ratio, ci, within5pct: within5pct(ci), notSlowerBy5pct: notSlowerBy5pct(ci), samples: { before, after } };
}

export async function compareEngine(before: string, after: string, opts: EngineOptions): Promise<EngineComparison> {
  const fromEnv = process.env.BATON_BENCH_PG_URL;
  const server = fromEnv ? undefined : await startPostgres();
  const adminUrl = fromEnv ?? server!.url;
  try {
    const env = { BATON_BENCH_PG_URL: adminUrl, BENCH_FOREACH_SIZES: '', BENCH_FOREACH_SAMPLE: '0', BENCH_FANOUT: '10', BENCH_STARTS: String(opts.starts) };
    const results = { before: [] as { json: BenchJson; cpu: number }[], after: [] as { json: BenchJson; cpu: number }[] };
    for (let r = 0; r < opts.runs; r++) {
      for (const side of r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
        const dir = side === 'before' ? before : after;
        const res = await runChild(process.execPath, ['--import', 'tsx', 'bench/engine.bench.ts'], { cwd: dir, env });
        results[side].push({ json: res.json as BenchJson, cpu: res.cpuSeconds });
        opts.log(`engine: run ${r + 1}/${opts.runs} ${side} done in ${res.wallSeconds.toFixed(0)} s`);
      }
    }
    const figures: EngineFigure[] = [];
    let seed = 2000;
    for (const b of BACKENDS) {
      for (const f of FIGURES) {
        figures.push(figure(`engine ${b} ${f.replace('MedianMs', '')} ms`, results.before.map((x) => x.json[b][f]), results.after.map((x) => x.json[b][f]), seed++));
      }
    }
    figures.push(figure('engine bench process CPU s', results.before.map((x) => x.cpu), results.after.map((x) => x.cpu), seed++));

    const probe = async (dir: string) => (await runChild(process.execPath, ['--import', 'tsx', path.join(here, 'engine-probe.ts'), dir, adminUrl], { cwd: dir })).json as Probe;
    const pb = await probe(before);
    opts.log('engine: probe before done');
    const pa = await probe(after);
    opts.log('engine: probe after done');
    for (const b of BACKENDS) {
      for (const k of ['oneStepInstance', 'chainStep'] as const) {
        const x = pb[b]?.cpuUs[k];
        const y = pa[b]?.cpuUs[k];
        if (x && y) figures.push(figure(`probe ${b} CPU µs per ${k}`, x, y, seed++));
      }
    }
    const differences = workDifferences(pb, pa);
    return { figures, probe: { before: pb, after: pa, sameStatements: differences.length === 0, differences } };
  } finally {
    await server?.stop();
  }
}
