import type { Findings } from './invariants.js';
import type { RetentionTally } from './retention-actor.js';
import type { Ledger } from './workload.js';
import { RECORDED_STEP } from './workflows.js';

// The chaos run's figures (the final JSON line) and its table, from the findings and the ledger.

export interface Faults {
  kills: number;
  /** Kills that landed while the victim was inside a recorded execution. */
  killsMidExecution: number;
  pg: number;
  kafka: number;
}

export interface Figures {
  kills: number;
  kills_mid_execution: number;
  pg_restarts: number;
  kafka_restarts: number;
  signals_sent: number;
  kafka_messages: number;
  instances_expected: number;
  instances_found: number;
  duplicates: number;
  lost: number;
  non_terminal: number;
  /** Executions of the Http step recorded, step instances executed more than once, and overlaps between them. */
  executions: number;
  steps_reexecuted: number;
  executions_dropped: number;
  /** Shortest pause between two executions of one step instance (about the lease on a takeover). */
  min_reexecution_gap_ms: number | null;
  overlaps: number;
  unrecorded: number;
  attempt_overlaps: number;
  lineage_missing: number;
  unexpected: number;
  failed: number;
  unexpected_exits: number;
  duration_s: number;
  /** Retention mode only (0 otherwise): passes the actor asked for, and what they dropped. */
  retention_passes: number;
  retention_passes_failed: number;
  partitions_dropped: number;
  rows_purged: number;
  rows_kept: number;
  tombstones: number;
  /** Signals of the run found only by their tombstones; copies published again after a purge; joins they fired again. */
  signals_purged: number;
  signals_republished: number;
  rejoins: number;
}

export function figuresOf(f: Findings, ledger: Ledger, faults: Faults, unexpectedExits: number, began: number, tally: RetentionTally): Figures {
  const cats = [f.manual, f.join, f.cron];
  const sigs = [f.restSignals, f.kafkaSignals];
  const sum = (xs: typeof cats, pick: (c: (typeof cats)[number]) => unknown[]): number => xs.reduce((n, c) => n + pick(c).length, 0);
  return {
    kills: faults.kills,
    kills_mid_execution: faults.killsMidExecution,
    pg_restarts: faults.pg,
    kafka_restarts: faults.kafka,
    signals_sent: ledger.signalsSent(),
    kafka_messages: ledger.kafkaValid.size + ledger.kafkaPoisonSent,
    instances_expected: cats.reduce((n, c) => n + c.expected, 0),
    instances_found: f.instancesFound,
    duplicates: sum(cats, (c) => c.duplicates) + sum(sigs, (c) => c.duplicates),
    lost: sum(cats, (c) => c.missing) + sum(sigs, (c) => c.missing),
    non_terminal: f.nonTerminal.length,
    executions: f.executions.executions,
    steps_reexecuted: f.executions.reexecuted,
    executions_dropped: f.executions.dropped,
    min_reexecution_gap_ms: f.executions.minGapMs === null ? null : Math.round(f.executions.minGapMs),
    overlaps: f.executions.overlaps.length,
    unrecorded: f.unrecorded.length,
    attempt_overlaps: f.attemptOverlaps.length,
    lineage_missing: f.lineageMissing.length,
    unexpected: sum(cats, (c) => c.unexpected) + sum(sigs, (c) => c.unexpected) + f.poisonIndexed,
    failed: f.failed.length,
    unexpected_exits: unexpectedExits,
    duration_s: Math.round((Date.now() - began) / 1000),
    retention_passes: tally.passes,
    retention_passes_failed: tally.failed,
    partitions_dropped: tally.partitionsDropped,
    rows_purged: tally.rowsPurged,
    rows_kept: tally.rowsKept,
    tombstones: tally.tombstones,
    signals_purged: f.purged,
    signals_republished: f.republished,
    rejoins: f.rejoins.length,
  };
}

export function reportLines(f: Findings, ledger: Ledger, figures: Figures): string[] {
  const rows: Array<[string, string | number, string | number, number, number, number]> = [
    ['manual starts', ledger.manualRequests, f.manual.expected, f.manual.found, f.manual.missing.length, f.manual.duplicates.length],
    ['signal joins', ledger.joins.size, f.join.expected, f.join.found, f.join.missing.length, f.join.duplicates.length],
    ['cron fires', '-', f.cron.expected, f.cron.found, f.cron.missing.length, f.cron.duplicates.length],
    ['REST signals', ledger.restRequests, f.restSignals.expected, f.restSignals.found, f.restSignals.missing.length, f.restSignals.duplicates.length],
    ['Kafka signals', ledger.kafkaSends, f.kafkaSignals.expected, f.kafkaSignals.found, f.kafkaSignals.missing.length, f.kafkaSignals.duplicates.length],
  ];
  const pad = (v: string | number, w: number): string => String(v).padStart(w);
  const lines = [
    `${'what'.padEnd(14)}${pad('sent', 8)}${pad('expected', 10)}${pad('found', 8)}${pad('missing', 9)}${pad('dups', 6)}`,
    ...rows.map(([name, sent, exp, found, miss, dups]) => `${name.padEnd(14)}${pad(sent, 8)}${pad(exp, 10)}${pad(found, 8)}${pad(miss, 9)}${pad(dups, 6)}`),
    `instances in the database: ${f.instancesFound}; non-terminal ${f.nonTerminal.length}; not SUCCEEDED ${f.failed.length}; retried attempts ${f.retriedAttempts}; overlapping attempt rows ${f.attemptOverlaps.length}`,
    `executions of step ${RECORDED_STEP}: ${f.executions.executions} of ${f.executions.steps} step instances; executed more than once ${f.executions.reexecuted}; connections dropped mid-execution ${f.executions.dropped}; shortest pause before a re-execution ${f.executions.minGapMs === null ? '-' : `${(f.executions.minGapMs / 1000).toFixed(1)} s`}; overlapping executions ${f.executions.overlaps.length}; successes the recorder never answered ${f.unrecorded.length}`,
    `lineage: TRIGGERED edges missing ${f.lineageMissing.length}; poison Kafka messages indexed ${f.poisonIndexed} (of ${ledger.kafkaPoisonSent} sent); unacknowledged requests: ${ledger.manualUnacked.size} starts, ${[...ledger.restSignals.values()].filter((s) => !s.acked).length} publishes, ${[...ledger.kafkaValid.values()].filter((m) => !m.acked).length} Kafka messages`,
    `retention: ${figures.retention_passes} passes asked for (${figures.retention_passes_failed} failed), ${figures.partitions_dropped} partitions dropped, ${figures.rows_purged} rows purged, ${figures.rows_kept} kept as still needed; signals of the run purged ${figures.signals_purged}, published again after a purge ${figures.signals_republished}`,
    `faults: ${figures.kills} SIGKILLs (${figures.kills_mid_execution} during an execution of step ${RECORDED_STEP}), ${figures.pg_restarts} PostgreSQL crash, ${figures.kafka_restarts} Kafka crash; Baton exits not caused by the harness: ${figures.unexpected_exits}`,
  ];
  const show = (what: string, xs: string[]): void => {
    if (xs.length > 0) lines.push(`${what} (${xs.length}): ${xs.slice(0, 8).join('; ')}${xs.length > 8 ? '; ...' : ''}`);
  };
  for (const [name, c] of [['manual', f.manual], ['join', f.join], ['cron', f.cron], ['REST signal', f.restSignals], ['Kafka signal', f.kafkaSignals]] as const) {
    show(`${name} missing`, c.missing);
    show(`${name} duplicated`, c.duplicates);
    show(`${name} unexpected`, c.unexpected);
  }
  show('non-terminal', f.nonTerminal);
  show('not SUCCEEDED', f.failed);
  show('overlapping executions', f.executions.overlaps);
  show('successes never answered by the recorder', f.unrecorded);
  show('overlapping attempt rows', f.attemptOverlaps);
  show('lineage missing', f.lineageMissing);
  show('joins fired again by signals published again after a purge (allowed)', f.rejoins);
  show('client errors', ledger.errors);
  return lines;
}
