import type { EventEmitter } from 'node:events';
import { observeRuns, observeStepLaunches, queueStats, type Queryable } from '@baton/engine-core';
import { matchBacklog, type KafkaLagReader, type SignalStats } from '@baton/signals';
import { Counter, Histogram, type Registry } from 'prom-client';
import { perScrape, readGauge, totalsCounter } from './metrics.js';

/** Step launches take about a millisecond when the engine keeps up; seconds when it does not. */
const LAUNCH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Depth, given-up jobs and the age of the oldest waiting job of the durable queue, by job kind:
 * one grouped query per scrape. A kind seen once keeps reporting (0 when empty) so its series do
 * not vanish between bursts.
 */
export function registerQueueMetrics(registry: Registry, db: Queryable): void {
  const read = perScrape(() => queueStats(db));
  const kinds = new Set<string>();
  const rows = async <T>(pick: (s: { depth: number; failed: number; oldestAgeSeconds: number }) => T): Promise<Array<[{ kind: string }, T]>> => {
    const stats = await read();
    for (const s of stats) kinds.add(s.kind);
    const byKind = new Map(stats.map((s) => [s.kind, s]));
    return [...kinds].sort().map((kind) => [{ kind }, pick(byKind.get(kind) ?? { depth: 0, failed: 0, oldestAgeSeconds: 0 })]);
  };
  readGauge(registry, 'baton_queue_depth', 'Jobs in the durable queue waiting or being worked on, by kind.', ['kind'], () => rows((s) => s.depth));
  readGauge(registry, 'baton_queue_failed', 'Jobs in the durable queue given up after their last attempt, by kind.', ['kind'], () => rows((s) => s.failed));
  readGauge(registry, 'baton_queue_oldest_age_seconds', 'How long the oldest due, unclaimed job has waited past its run time, by kind.', ['kind'], () =>
    rows((s) => s.oldestAgeSeconds),
  );
}

/** Steps last from a millisecond (NoOp) to hours (a long Shell or a wait). */
const STEP_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 3 * 3600, 12 * 3600];

/**
 * From the engine's events: launch latency of its steps (permit committed → runtime called), runs
 * started and ended by workflow (and terminal status), and step durations by step type and status.
 * Each transition is counted by the process whose transaction recorded it, so the sum over all
 * processes sharing a database counts each once (`sum by (workflow) (rate(...))`).
 */
export function registerEngineMetrics(registry: Registry, engine: { events: EventEmitter }): () => void {
  const launch = new Histogram({
    name: 'baton_step_launch_seconds',
    help: 'Time from a step becoming ready (its concurrency permit committed) to its runtime being called, in this process.',
    buckets: LAUNCH_BUCKETS,
    registers: [registry],
  });
  const started = new Counter({
    name: 'baton_runs_started_total',
    help: 'Workflow runs begun by this process (left CREATED, or a restart), by workflow.',
    labelNames: ['workflow'] as const,
    registers: [registry],
  });
  const ended = new Counter({
    name: 'baton_runs_ended_total',
    help: 'Workflow runs ended by this process, by workflow and terminal status (SUCCEEDED, FAILED, STOPPED, TIMED_OUT).',
    labelNames: ['workflow', 'status'] as const,
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: 'baton_step_duration_seconds',
    help: 'Time from a step attempt starting to its end being recorded by this process, by step type and terminal status.',
    labelNames: ['step_type', 'status'] as const,
    buckets: STEP_BUCKETS,
    registers: [registry],
  });
  const stopLaunches = observeStepLaunches(engine, (seconds) => launch.observe(seconds));
  const stopRuns = observeRuns(engine, {
    runStarted: (workflow) => started.inc({ workflow }),
    runEnded: (workflow, status) => ended.inc({ workflow, status }),
    stepEnded: (stepType, status, seconds) => stepDuration.observe({ step_type: stepType, status }, seconds),
  });
  return () => {
    stopLaunches();
    stopRuns();
  };
}

/**
 * Signals stored by source (the signal service's own counts for REST, CloudEvents and step
 * outputs; `inbound` adds the sources that count themselves, Kafka and SNS) and trigger firings.
 */
export function registerSignalMetrics(
  registry: Registry,
  stats: SignalStats,
  inbound: () => Promise<Iterable<[string, number]>> = async () => [],
): void {
  totalsCounter(registry, 'baton_signals_in_total', 'New signal instances stored, by source (rest, cloudevents, step_output, kafka, sns).', ['source'], async () => {
    const rows = new Map(stats.stored);
    for (const [source, n] of await inbound()) rows.set(source, (rows.get(source) ?? 0) + n);
    return [...rows].map(([source, n]) => [{ source }, n]);
  });
  totalsCounter(registry, 'baton_trigger_matches_total', 'Signal trigger firings recorded, by outcome (STARTED, CONDITION_FALSE, DEDUPED).', ['outcome'], () =>
    [...stats.firings].map(([outcome, n]) => [{ outcome }, n]),
  );
  totalsCounter(registry, 'baton_trigger_start_failures_total', 'Trigger firings whose workflow start failed; the join is retried by the sweep.', [], () => [[{}, stats.startFailures]]);
}

/** Signals stored but not yet matched against the triggers, and how old the oldest is: one query per scrape. */
export function registerMatchBacklogMetrics(registry: Registry, db: Queryable): void {
  const read = perScrape(() => matchBacklog(db));
  readGauge(registry, 'baton_signals_unmatched', 'Stored signals not yet evaluated against the signal triggers.', [], async () => [[{}, (await read()).signals]]);
  readGauge(registry, 'baton_signals_unmatched_oldest_age_seconds', 'Age of the oldest stored signal not yet evaluated against the triggers (0 when none).', [], async () => [
    [{}, (await read()).oldestAgeSeconds],
  ]);
}

/** Lag of Baton's Kafka consumer group per subscribed topic partition, asked of the brokers once per scrape. */
export function registerKafkaLagMetrics(registry: Registry, lag: KafkaLagReader): void {
  readGauge(registry, 'baton_kafka_consumer_lag', "Messages not yet committed by Baton's consumer group, by topic and partition.", ['topic', 'partition'], async () =>
    (await lag.read()).map((p) => [{ topic: p.topic, partition: String(p.partition) }, p.lag]),
  );
}
