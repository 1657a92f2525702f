/** The SEL half of scripts/bench-compare.ts: pairs of rounds in each of several processes, summed up per program and mode. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';
import type { SelPairRounds } from './sel-pairs.js';
import { SEL_PROGRAMS } from './sel-programs.js';
import { median, notSlowerBy5pct, pairedRatio, within5pct } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SelFigure {
  figure: string;
  beforeNs: number;
  afterNs: number;
  ratio: number;
  ci: [number, number];
  wallRatio: number;
  n: number;
  within5pct: boolean;
  notSlowerBy5pct: boolean;
}

export async function compareSel(before: string, after: string, opts: { processes: number; rounds: number; log: (s: string) => void }): Promise<SelFigure[]> {
  const runs: SelPairRounds[][] = [];
  for (let p = 0; p < opts.processes; p++) {
    const order = p % 2 === 1 ? 'after-first' : 'before-first';
    const r = await runChild(process.execPath, ['--import', 'tsx', path.join(here, 'sel-pairs.ts'), before, after, String(opts.rounds), order], { cwd: path.resolve(here, '../..') });
    runs.push(r.json as SelPairRounds[]);
    opts.log(`sel: process ${p + 1}/${opts.processes} (${order}) done in ${r.wallSeconds.toFixed(0)} s`);
  }
  const figures: SelFigure[] = [];
  SEL_PROGRAMS.forEach((_, i) => {
    for (const mode of ['compiled', 'cold'] as const) {
      const cells = runs.map((run) => run.find((c) => c.program === i + 1 && c.mode === mode)!);
      const ratios = (side: 'cpu' | 'wall') => cells.map((c) => c.after[side].map((a, r) => a / c.before[side][r]!));
      const { ratio, ci, n } = pairedRatio(ratios('cpu'), 1000 + i * 2 + (mode === 'cold' ? 1 : 0));
      figures.push({
        figure: `sel program ${i + 1} ${mode}`,
        beforeNs: Math.round(median(cells.flatMap((c) => c.before.cpu))),
        afterNs: Math.round(median(cells.flatMap((c) => c.after.cpu))),
        ratio,
        ci,
        wallRatio: median(ratios('wall').flat()),
        n,
        within5pct: within5pct(ci),
        notSlowerBy5pct: notSlowerBy5pct(ci),
      });
    }
  });
  return figures;
}
