import { expect, it } from 'vitest';
import { requireOwnServers } from '../setup/infra.js';
import { BOUNDED, runChaos } from './chaos.js';

/**
 * The bounded chaos run (see run.ts): three Baton processes on one PostgreSQL and one Kafka under
 * mixed load with process kills and one crash of each server, while retention passes drop the partition of the run's
 * signals again and again (retention mode); every invariant must hold.
 */
it('keeps every invariant through process kills, a PostgreSQL crash, a Kafka crash and retention purging', async () => {
  requireOwnServers('postgres');
  requireOwnServers('kafka');
  const seed = Math.floor(Math.random() * 1e9);
  // Progress goes out as it happens, so a run that hangs shows how far it got.
  const result = await runChaos({ ...BOUNDED, seed, retention: true, log: (l) => console.log(l) });
  const summary = [...result.report, JSON.stringify(result.figures)].join('\n');
  console.log(summary);
  expect(result.figures.kills, summary).toBe(BOUNDED.kills);
  expect(result.figures.pg_restarts, summary).toBe(1);
  expect(result.figures.kafka_restarts, summary).toBe(1);
  expect(result.figures.instances_expected, summary).toBeGreaterThan(100);
  // Every instance ran the recorded Http step, so the overlap check saw each of them.
  expect(result.figures.executions, summary).toBeGreaterThanOrEqual(result.figures.instances_found);
  // Retention really purged during the run: partitions dropped, consumed signals of the run gone but for their tombstones.
  expect(result.figures.partitions_dropped, summary).toBeGreaterThan(0);
  expect(result.figures.signals_purged, summary).toBeGreaterThan(0);
  expect(result.ok, summary).toBe(true);
}, 300_000);
