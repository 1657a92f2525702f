import type { RetryingClient } from './client.js';
import { sleep } from './cluster.js';
import { SIGNAL_K } from './workflows.js';

/** The retention mode's clock offset: more than a day plus the 1 h retention, so the day of every row published now has ended. */
export const RETENTION_OFFSET_MS = 25 * 3_600_000;
const ACTOR_EVERY_MS = 2_000;

/**
 * The processes' settings in retention mode: 1 h retention (chaos/k, which triggers nothing and
 * leaves no tombstone, kept forever so its ingestion stays checkable), a pass every 10 s, and the
 * test-only clock offset that makes every pass drop the day partition of the run's signals.
 */
export const RETENTION_ENV: Readonly<Record<string, string>> = {
  BATON_SIGNAL_RETENTION: '1h',
  BATON_SIGNAL_RETENTION_BY_NAME: JSON.stringify({ [SIGNAL_K]: 'forever' }),
  BATON_RETENTION_INTERVAL: '10s',
  BATON_TEST_RETENTION_CLOCK_OFFSET: `${RETENTION_OFFSET_MS / 1000}`,
};

export interface RetentionTally {
  passes: number;
  failed: number;
  partitionsDropped: number;
  rowsPurged: number;
  rowsKept: number;
  tombstones: number;
}

/**
 * The retention actor: asks some process for a pass every 2 s during the load (beside each
 * process's own pass every 10 s), through the same retrying client as the workload, and adds up
 * what the passes dropped. A pass refused or cut off by a fault is counted, not an error.
 */
export async function runRetentionActor(client: RetryingClient, tally: RetentionTally, stop: Promise<void>): Promise<void> {
  let stopping = false;
  void stop.then(() => (stopping = true));
  while (!stopping) {
    const r = await client.send('POST', '/api/v3/admin/retention/run', undefined);
    tally.passes++;
    if (!r.ok) tally.failed++;
    else {
      const dropped = (r.answer.body as { dropped: Array<{ rows: number; kept: number; tombstones: number }> }).dropped;
      tally.partitionsDropped += dropped.length;
      for (const d of dropped) {
        tally.rowsPurged += d.rows;
        tally.rowsKept += d.kept;
        tally.tombstones += d.tombstones;
      }
    }
    await sleep(ACTOR_EVERY_MS);
  }
}
