/**
 * Where a growth-benchmark query's time goes at two sizes, side by side: fills two databases as
 * bench/scale.bench.ts does (BENCH_DIAG_SIZES, default 1000000,5000000), then for each measured
 * query prints the SQL-only and whole-call medians and p99 over BENCH_DIAG_RUNS calls (alternating
 * databases), and EXPLAIN (ANALYZE, BUFFERS) of one call on each. A tool for finding causes, not a
 * benchmark with targets: `npx tsx bench/scale-diagnose.ts`.
 */
import { instanceListQuery, type PgDb } from '@baton/engine-core';
import { recommendedSettings } from '../scripts/infra/postgres-settings.js';
import { fillSignals, vacuumAnalyze } from './scale-fill.js';
import { closeAgent, lineagePicks, pct, queries, retentionPass, settle } from './scale-measure.js';
import { openTarget, type Target } from './scale-target.js';
import { benchPostgres, runMain } from './support.js';

const SIZES = (process.env.BENCH_DIAG_SIZES ?? '1000000,5000000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_DIAG_RUNS ?? '1000');
const say = (m: string) => process.stderr.write(`diag: ${new Date().toISOString()} ${m}\n`);

async function explain(db: PgDb, sql: string, params: unknown[]): Promise<string> {
  const r = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, TIMING) ${sql}`, params);
  return r.rows.map((x) => x['QUERY PLAN']).join('\n');
}

async function main(): Promise<void> {
  const server = await benchPostgres(recommendedSettings());
  const targets: Target[] = [];
  try {
    for (const size of SIZES) {
      const t = await openTarget(server.adminUrl, `baton_diag`, `s${size}`);
      targets.push(t);
      say(`filling ${t.label}`);
      await fillSignals(t.db, size, 'bench-fill', { sessions: 2, expiredFraction: 0.05 });
      await vacuumAnalyze(t.db, 2);
      await retentionPass(t.db);
      await settle(t.db);
    }
    const qs = await Promise.all(targets.map(async (t) => queries(await lineagePicks(t.db), t.service)));
    const il = instanceListQuery({ statuses: ['SUCCEEDED'], limit: 50 });
    const times = targets.map(() => ({ sql: [] as number[], call: [] as number[], signalList: [] as number[], lineage: [] as number[] }));
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < targets.length; k++) {
        const j = i % 2 === 0 ? k : targets.length - 1 - k;
        const t = targets[j]!;
        const time = async (into: number[], call: () => Promise<unknown>) => {
          const a = performance.now();
          await call();
          into.push(performance.now() - a);
        };
        await time(times[j]!.sql, () => t.db.query(il.sql, il.params));
        await time(times[j]!.call, () => qs[j]!.instanceList(t.db, i));
        await time(times[j]!.signalList, () => qs[j]!.signalList(t.db, i));
        await time(times[j]!.lineage, () => qs[j]!.lineage(t.db, i));
      }
    }
    for (let k = 0; k < targets.length; k++) {
      const f = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(2)} p99 ${pct(xs, 99).toFixed(2)} ms`;
      console.log(`${targets[k]!.label}: instance list SQL ${f(times[k]!.sql)}; whole call ${f(times[k]!.call)}; signal list ${f(times[k]!.signalList)}; lineage ${f(times[k]!.lineage)}`);
    }
    for (const t of targets) console.log(`--- ${t.label} instance list\n${await explain(t.db, il.sql, il.params)}`);
  } finally {
    closeAgent();
    for (const t of targets) await t.close();
    await server.stop();
  }
}

runMain(main);
