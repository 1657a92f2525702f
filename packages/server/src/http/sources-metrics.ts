import type { Registry } from 'prom-client';
import { perScrape, readGauge, totalsCounter } from './metrics.js';

/**
 * What `SourcesRuntime.metrics()` of @baton/signals (sources/runtime.ts) reports; declared here by
 * shape so the server needs nothing from the signals package beyond that method.
 */
export interface SourcesMetricsSnapshot {
  kafka?: { indexed: number; duplicates: number; deadLettered: number; commits: number };
  sns: { indexed: number; duplicates: number; rejected: number; confirmed: number };
  outbound: Record<string, { delivered: number; failed: number }>;
  backlog: ReadonlyArray<{ sink: string; count: number; oldestAgeMs: number }>;
}

export interface SourcesMetricsSource {
  metrics(): Promise<SourcesMetricsSnapshot>;
}

/**
 * Signals in from Kafka and SNS (new and duplicate), poison messages, signals and events out per
 * sink, and the outbound backlog. One `metrics()` call (one backlog query) serves a whole scrape.
 * `otherDuplicates` adds the duplicates of sources counted elsewhere (REST, step outputs, by
 * source label) to the one `baton_signals_duplicates_total` family.
 */
export function registerSourcesMetrics(registry: Registry, sources: SourcesMetricsSource, otherDuplicates?: () => Iterable<[string, number]>): void {
  const snapshot = perScrape(() => sources.metrics());
  const inbound = async (pick: (s: { indexed: number; duplicates: number }) => number) => {
    const m = await snapshot();
    const rows: Array<[{ source: string }, number]> = [[{ source: 'sns' }, pick(m.sns)]];
    if (m.kafka) rows.push([{ source: 'kafka' }, pick(m.kafka)]);
    return rows;
  };
  totalsCounter(registry, 'baton_signals_ingested_total', 'New signal instances stored from a source (kafka, sns).', ['source'], () => inbound((s) => s.indexed));
  totalsCounter(registry, 'baton_signals_duplicates_total', 'Messages from a source whose signal existed already (redelivery or a repeated dedupe key).', ['source'], async () => {
    const rows = await inbound((s) => s.duplicates);
    for (const [source, n] of otherDuplicates?.() ?? []) rows.push([{ source }, n]);
    return rows;
  });
  totalsCounter(registry, 'baton_kafka_dead_lettered_total', 'Kafka messages that could not become signals, sent to the dead-letter topic.', [], async () => {
    const m = await snapshot();
    return m.kafka ? [[{}, m.kafka.deadLettered]] : [];
  });
  totalsCounter(registry, 'baton_sns_rejected_total', 'SNS messages rejected (bad signature, unknown topic, unmappable).', [], async () => [[{}, (await snapshot()).sns.rejected]]);
  totalsCounter(registry, 'baton_outbound_delivered_total', 'Outbound events (signals and workflow events) delivered, by sink.', ['sink'], async () =>
    Object.entries((await snapshot()).outbound).map(([sink, s]) => [{ sink }, s.delivered]),
  );
  totalsCounter(registry, 'baton_outbound_failed_total', 'Outbound delivery attempts that failed and will be retried, by sink.', ['sink'], async () =>
    Object.entries((await snapshot()).outbound).map(([sink, s]) => [{ sink }, s.failed]),
  );
  readGauge(registry, 'baton_outbound_backlog', 'Outbound events waiting for delivery, by sink.', ['sink'], async () =>
    (await snapshot()).backlog.map((b) => [{ sink: b.sink }, b.count]),
  );
  readGauge(registry, 'baton_outbound_oldest_age_seconds', 'Age of the oldest outbound event waiting for delivery, by sink.', ['sink'], async () =>
    (await snapshot()).backlog.map((b) => [{ sink: b.sink }, b.oldestAgeMs / 1000]),
  );
}
