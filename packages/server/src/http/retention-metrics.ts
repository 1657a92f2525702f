import type { Queryable } from '@baton/engine-core';
import { oldestRetainedRun } from '@baton/engine-core';
import { oldestRetainedSignal, oldestTombstone, runTableSizes, signalTableSizes, type RetentionLoop } from '@baton/signals';
import type { Registry } from 'prom-client';
import { perScrape, readGauge } from './metrics.js';

/**
 * Rows and bytes of the signals tables (catalog estimates, one read per scrape), the create time
 * of the oldest retained signal, and what this process's last retention pass did.
 */
export function registerRetentionMetrics(registry: Registry, db: Queryable, loop?: RetentionLoop): void {
  const sizes = perScrape(async () => [...(await signalTableSizes(db)), ...(await runTableSizes(db))]);
  readGauge(registry, 'baton_table_rows', "Rows per signals and run-history table (the planner's estimate once analysed; partitioned tables summed over their partitions).", ['table'], async () =>
    (await sizes()).map((s) => [{ table: s.table }, s.rows]),
  );
  readGauge(registry, 'baton_table_bytes', 'Bytes on disk per signals and run-history table, with indexes and TOAST.', ['table'], async () => (await sizes()).map((s) => [{ table: s.table }, s.bytes]));
  const oldest = perScrape(() => oldestRetainedSignal(db));
  readGauge(registry, 'baton_signals_oldest_retained_timestamp_seconds', 'Create time (Unix seconds) of the oldest stored signal instance; absent when none is stored.', [], async () => {
    const t = await oldest();
    return t ? [[{}, t.getTime() / 1000]] : [];
  });
  const oldestRun = perScrape(() => oldestRetainedRun(db));
  readGauge(registry, 'baton_runs_oldest_retained_timestamp_seconds', 'End time (Unix seconds) of the oldest stored finished top-level run; absent when none is stored.', [], async () => {
    const t = await oldestRun();
    return t ? [[{}, Date.parse(t) / 1000]] : [];
  });
  const oldestTomb = perScrape(() => oldestTombstone(db));
  readGauge(registry, 'baton_signal_tombstones_oldest_purged_timestamp_seconds', 'When the signal of the oldest stored tombstone was purged (Unix seconds); absent when there is none. Their count is baton_table_rows{table="signal_tombstones"}.', [], async () => {
    const t = await oldestTomb();
    return t ? [[{}, Date.parse(t) / 1000]] : [];
  });
  if (!loop) return;
  readGauge(registry, 'baton_retention_last_pass_purged_runs', "Instance rows (runs, children, iterations) this process's last retention pass purged.", [], () =>
    loop.last?.result.runs ? [[{}, loop.last.result.runs.runs]] : [],
  );
  readGauge(registry, 'baton_retention_last_pass_removed_tombstones', "Signal tombstones this process's last retention pass removed (every run their lineage led to was purged).", [], () =>
    loop.last?.result.tombstones ? [[{}, loop.last.result.tombstones.removed]] : [],
  );
  readGauge(registry, 'baton_retention_last_pass_timestamp_seconds', "When this process's last retention pass ended (Unix seconds).", [], () =>
    loop.last ? [[{}, Date.parse(loop.last.at) / 1000]] : [],
  );
  readGauge(registry, 'baton_retention_last_pass_dropped_rows', "Signal instances this process's last retention pass dropped with their partitions.", [], () =>
    loop.last ? [[{}, loop.last.result.dropped.reduce((n, d) => n + d.rows, 0)]] : [],
  );
  readGauge(registry, 'baton_retention_last_pass_seconds', "Duration of this process's last retention pass.", [], () => (loop.last ? [[{}, loop.last.result.durationMs / 1000]] : []));
}
