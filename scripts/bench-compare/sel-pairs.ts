/**
 * One process of the SEL before/after comparison (run by scripts/bench-compare.ts):
 *
 *   tsx scripts/bench-compare/sel-pairs.ts <before-worktree> <after-worktree> <rounds> [after-first]
 *
 * Imports BOTH worktrees' SEL (packages/sel/src/index.ts: two module instances, each with its own
 * compile cache and JIT feedback) and times each program, compiled and cold, in alternating
 * rounds with the same batch size (before,after / after,before, so neither always goes first).
 * Timing is as in bench/sel.bench.ts: CPU time of this process per evaluation (wall beside it),
 * batches of ~25 ms after a 250 ms warm-up. Prints one JSON line: per program and mode, the
 * per-round ns of each side.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SEL_PROGRAMS } from './sel-programs.js';

interface SelModule {
  compile(source: string, options: { maestro?: boolean; noCache?: boolean }): { evaluate(vars: Record<string, unknown>): { ok: boolean } };
}
type Runner = () => unknown;

const ROUND_MS = 25;
const WARMUP_MS = 250;

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Batch size that takes ~ROUND_MS of CPU for `run` (as bench/sel.bench.ts calibrates it). */
function calibrate(run: Runner): number {
  let batch = 1;
  for (;;) {
    const c0 = cpuMicros();
    for (let i = 0; i < batch; i++) run();
    const ms = (cpuMicros() - c0) / 1000;
    if (ms >= ROUND_MS / 4 || batch > 1e7) return Math.max(1, Math.round((batch * ROUND_MS) / Math.max(ms, 0.001)));
    batch *= 4;
  }
}

function warm(run: Runner, batch: number): void {
  const c0 = cpuMicros();
  while (cpuMicros() - c0 < WARMUP_MS * 1000) for (let i = 0; i < batch; i++) run();
}

/** One timed batch: [CPU ns, wall ns] per call. */
function batchOf(run: Runner, batch: number): [number, number] {
  const c0 = cpuMicros();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) run();
  const wall = Number(process.hrtime.bigint() - t0) / batch;
  return [((cpuMicros() - c0) * 1000) / batch, wall];
}

export interface SelSideRounds {
  cpu: number[];
  wall: number[];
}
export interface SelPairRounds {
  program: number;
  mode: 'compiled' | 'cold';
  batch: number;
  before: SelSideRounds;
  after: SelSideRounds;
}

function pairRounds(before: Runner, after: Runner, rounds: number, afterFirst: boolean): Omit<SelPairRounds, 'program' | 'mode'> {
  // The same batch for both sides: the slower side's ~25 ms, so neither gets shorter rounds.
  const batch = Math.min(calibrate(before), calibrate(after));
  const sides: [Runner, SelSideRounds][] = [
    [before, { cpu: [], wall: [] }],
    [after, { cpu: [], wall: [] }],
  ];
  const order = afterFirst ? [1, 0] : [0, 1];
  for (const i of order) warm(sides[i]![0], batch);
  for (let r = 0; r < rounds; r++) {
    for (const i of r % 2 === 0 ? order : [...order].reverse()) {
      const [cpu, wall] = batchOf(sides[i]![0], batch);
      sides[i]![1].cpu.push(cpu);
      sides[i]![1].wall.push(wall);
    }
  }
  return { batch, before: sides[0]![1], after: sides[1]![1] };
}

async function load(worktree: string): Promise<SelModule> {
  return (await import(pathToFileURL(path.join(path.resolve(worktree), 'packages/sel/src/index.ts')).href)) as SelModule;
}

async function main(): Promise<void> {
  const [beforeDir, afterDir, roundsArg, first] = process.argv.slice(2);
  if (!beforeDir || !afterDir) throw new Error('usage: sel-pairs.ts <before-worktree> <after-worktree> <rounds> [after-first]');
  const rounds = Number(roundsArg ?? 15);
  const afterFirst = first === 'after-first';
  const [b, a] = afterFirst ? (await Promise.all([load(afterDir), load(beforeDir)])).reverse() : await Promise.all([load(beforeDir), load(afterDir)]);
  if (b === a) throw new Error('both worktrees resolved to one SEL module');
  const out: SelPairRounds[] = [];
  SEL_PROGRAMS.forEach((p, i) => {
    const sides = [b!, a!].map((sel) => {
      const program = sel.compile(p.sel, { maestro: true });
      const check = program.evaluate(p.vars);
      if (!check.ok) throw new Error(`program ${i + 1} fails: ${JSON.stringify(check)}`);
      return {
        compiled: () => program.evaluate(p.vars),
        cold: () => sel.compile(p.sel, { maestro: true, noCache: true }).evaluate(p.vars),
      };
    });
    for (const mode of ['compiled', 'cold'] as const) {
      out.push({ program: i + 1, mode, ...pairRounds(sides[0]![mode], sides[1]![mode], rounds, afterFirst) });
    }
  });
  console.log(JSON.stringify(out));
}

await main();
