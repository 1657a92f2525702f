/**
 * The output of bench/scale.bench.ts: a table with one column per size, the side-by-side
 * comparison of the largest size with the reference database, the drain, and a final JSON line
 * with every figure, the growth ratios (largest size over smallest) and pass/fail per target. The
 * targets are judged on the side-by-side ratios when the run made them (medians of rounds taken
 * in turn), else on the per-size columns (measured minutes apart).
 */
import type { DrainResult } from './scale-drain.js';
import type { DiskBytes } from './scale-disk.js';
import type { FillResult } from './scale-fill.js';
import type { QueryName, QueryTimes, RetentionFigures } from './scale-measure.js';
import { FIGURES, GROWTH_KEY, type SideBySide } from './scale-side.js';

export interface SizeFigures {
  signals: number;
  fill: FillResult & { analyzeSeconds: number; cpuSeconds: number | undefined };
  restPublishPerSecond: number;
  kafkaIngestPerSecond: number | string;
  latency: { p50: number; p99: number; started: number; expected: number };
  queries: Record<QueryName, QueryTimes>;
  /** Per query, the big tables its plan scans sequentially; a string when the check could not run. */
  seqScans: Record<string, string[]> | string;
  retention: RetentionFigures & { skipped: number; retryMs?: number };
  bytes: DiskBytes;
  load: number;
}

export const GROWTH_MAX = 1.2;
export const DRAIN_MIN_PER_S = 300;
export const DRAIN_STEADY_MAX = 1.5;

const n = (x: number | string, d = 0) => (typeof x === 'number' ? (Number.isFinite(x) ? x.toFixed(d) : 'n/a') : x);
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
const q = (t: QueryTimes) => `${t.p50.toFixed(1)} / ${t.p99.toFixed(1)} ms (first ${t.first.toFixed(0)})`;
const ratio = (a: number, b: number) => Number((a / b).toFixed(3));

/** Largest size over smallest, each a "higher is worse" ratio (rates inverted), for every target figure. */
export function growth(sizes: SizeFigures[]): Record<string, number | string> {
  const first = sizes[0]!;
  const last = sizes.at(-1)!;
  const k0 = first.kafkaIngestPerSecond;
  const k1 = last.kafkaIngestPerSecond;
  return {
    rest_publish_rate: ratio(first.restPublishPerSecond, last.restPublishPerSecond),
    kafka_ingest_rate: typeof k0 === 'number' && typeof k1 === 'number' ? ratio(k0, k1) : 'n/a',
    publish_to_instance_p99: ratio(last.latency.p99, first.latency.p99),
    signal_list_p99: ratio(last.queries.signalList.p99, first.queries.signalList.p99),
    lineage_p99: ratio(last.queries.lineage.p99, first.queries.lineage.p99),
    instance_list_p99: ratio(last.queries.instanceList.p99, first.queries.instanceList.p99),
  };
}

export function report(sizes: SizeFigures[], side: SideBySide | undefined, drain: DrainResult, totalSeconds: number): void {
  const seq = (s: SizeFigures) => (typeof s.seqScans === 'string' ? 'not checked' : Object.entries(s.seqScans).filter(([, t]) => t.length > 0).map(([k, t]) => `${k}: ${t.join(',')}`).join('; ') || 'none');
  const rows: string[][] = [
    ['stored signals (live)', ...sizes.map((s) => String(s.signals))],
    ['fill: signals + expired + runs', ...sizes.map((s) => `+${s.fill.live} +${s.fill.expired} +${s.fill.runs}`)],
    ['fill time / per 1M signals', ...sizes.map((s) => `${n(s.fill.seconds)} s / ${n((s.fill.seconds / Math.max(1, s.fill.live + s.fill.expired)) * 1e6)} s`)],
    ['VACUUM ANALYZE after the fill', ...sizes.map((s) => `${n(s.fill.analyzeSeconds)} s`)],
    ['  PostgreSQL CPU (fill + VACUUM) per 1M', ...sizes.map((s) => (s.fill.cpuSeconds === undefined ? 'n/a' : `${n((s.fill.cpuSeconds / Math.max(1, s.fill.live + s.fill.expired)) * 1e6)} s`))],
    ['retention pass (expired rows dropped)', ...sizes.map((s) => `${n(s.retention.ms)} ms (${s.retention.partitions} partitions, ${s.retention.rows} rows, ${s.retention.tombstones} tombstones${s.retention.skipped ? `; ${s.retention.skipped} skipped, next pass ${n(s.retention.retryMs ?? NaN)} ms` : ''})`)],
    ['REST batch publish', ...sizes.map((s) => `${n(s.restPublishPerSecond)} signals/s`)],
    ['Kafka ingest', ...sizes.map((s) => (typeof s.kafkaIngestPerSecond === 'number' ? `${n(s.kafkaIngestPerSecond)} signals/s` : s.kafkaIngestPerSecond))],
    ['publish → instance at 500/s p50 / p99', ...sizes.map((s) => `${n(s.latency.p50)} / ${n(s.latency.p99)} ms (${s.latency.started}/${s.latency.expected})`)],
    ['signal list p50 / p99 warm (first)', ...sizes.map((s) => q(s.queries.signalList))],
    ['lineage p50 / p99 warm (first)', ...sizes.map((s) => q(s.queries.lineage))],
    ['instance list p50 / p99 warm (first)', ...sizes.map((s) => q(s.queries.instanceList))],
    ['Seq Scans of big tables', ...sizes.map(seq)],
    ['database on disk', ...sizes.map((s) => mb(s.bytes.database))],
    ['  signal tables (rows, keys, lineage)', ...sizes.map((s) => mb(s.bytes.signals))],
    ['  run tables', ...sizes.map((s) => mb(s.bytes.runs))],
    ['load average (1 min) at the end', ...sizes.map((s) => s.load.toFixed(1))],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  console.log(`query p50/p99 are warm, over ${sizes[0]?.queries.signalList.runs ?? 0} calls each after 10 warm-up calls; "first" is the first call after the fill`);
  if (side) printSide(side);
  console.log(`drain of ${drain.instances} queued one-NoOp instances: ${drain.drained} ended (${drain.failed} not SUCCEEDED) in ${drain.totalSeconds.toFixed(1)} s, ${drain.overallPerSecond.toFixed(0)} instances/s overall`);
  for (const w of drain.windows) console.log(`  at ${w.left} left: ${n(w.perSecond)} instances/s (${w.ended} in ${n(w.seconds, 2)} s)`);
  console.log(`whole run: ${(totalSeconds / 60).toFixed(1)} min`);
  const sequential = growth(sizes);
  const g = side ? side.ratios : sequential;
  const rates = drain.windows.map((w) => w.perSecond);
  const drainSteady = rates.length > 0 ? ratio(rates.at(-1)!, rates[0]!) : NaN;
  const pass: Record<string, boolean | string> = {};
  for (const [k, v] of Object.entries(g)) pass[k] = typeof v === 'number' ? v <= GROWTH_MAX : 'n/a';
  pass.drain_rate = rates.length > 0 && rates.every((r) => r >= DRAIN_MIN_PER_S);
  pass.drain_steady = drainSteady <= DRAIN_STEADY_MAX;
  console.log(
    JSON.stringify({
      bench: 'scale',
      totalSeconds: Math.round(totalSeconds),
      sizes: sizes.map((s) => ({ ...s, restPublishPerSecond: Math.round(s.restPublishPerSecond) })),
      growth: side
        ? { judged_on: 'side_by_side', from: Math.round((side.reference.signalsBefore + side.reference.signals) / 2), to: Math.round((side.growth.signalsBefore + side.growth.signals) / 2), rounds: side.rounds, ...g } : { judged_on: 'sequential', from: sizes[0]?.signals, to: sizes.at(-1)?.signals, ...g },
      growth_sequential: { from: sizes[0]?.signals, to: sizes.at(-1)?.signals, ...sequential },
      side_by_side: side,
      drain: { ...drain, windows: drain.windows.map((w) => ({ ...w, perSecond: Math.round(w.perSecond) })) },
      drain_rate_10pct_over_100pct: drainSteady,
      targets: { growth_max: GROWTH_MAX, drain_min_per_s: DRAIN_MIN_PER_S, drain_steady_max: DRAIN_STEADY_MAX },
      pass,
      all_pass: Object.values(pass).every((v) => v === true),
    }),
  );
}

const LABEL: Record<string, string> = {
  restPublishPerSecond: 'REST batch publish (signals/s)',
  kafkaIngestPerSecond: 'Kafka ingest (signals/s)',
  publishToInstanceP99: 'publish → instance p99 (ms)',
  signalListP99: 'signal list p99 (ms)',
  lineageP99: 'lineage p99 (ms)',
  instanceListP99: 'instance list p99 (ms)',
};

/** The side-by-side rounds: each figure per round on each database, the medians and the ratio. */
function printSide(side: SideBySide): void {
  const fmt = (x: number | string, ms: boolean) => (typeof x === 'number' ? (Number.isFinite(x) ? x.toFixed(ms ? 1 : 0) : 'n/a') : x);
  console.log(
    `side by side, ${side.rounds} rounds in turn (ABBA): reference ${side.reference.signalsBefore} → ${side.reference.signals} signals vs growth ${side.growth.signalsBefore} → ${side.growth.signals} (the rounds publish into both); median per database, ratio growth/reference (rates inverted: above 1 is worse)`,
  );
  const rows: string[][] = [['figure', 'reference rounds', 'growth rounds', 'reference median', 'growth median', 'ratio']];
  for (const f of FIGURES) {
    const ms = !f.endsWith('PerSecond');
    rows.push([
      LABEL[f]!,
      side.reference.rounds.map((r) => fmt(r[f], ms)).join(' '),
      side.growth.rounds.map((r) => fmt(r[f], ms)).join(' '),
      fmt(side.reference.median[f], ms),
      fmt(side.growth.median[f], ms),
      String(side.ratios[GROWTH_KEY[f]]),
    ]);
  }
  const bufs = (rs: SideBySide['reference']['rounds']) => rs.map((r) => `${r.signalListBuffers.hit.toFixed(0)}/${r.signalListBuffers.read.toFixed(1)}`).join(' ');
  rows.push(['  signal list buffers hit/read per call', bufs(side.reference.rounds), bufs(side.growth.rounds), '', '', '']);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`);
}
