import { dropExpiredHistory, ensureHistoryPartitions, purgeExpiredRuns, type Db } from '@baton/engine-core';
import { ensurePartitions } from './partitions.js';
import { runRetentionPass, type RetentionPassResult } from './retention.js';
import { longestRetentionSeconds, setRetentionPolicy, type RetentionPolicy } from './retention-policy.js';
import { purgeRunLinkedRows, type RunLinkedCursors } from './run-linked-purge.js';
import { purgeTombstones, type TombstoneCursor } from './tombstone-purge.js';

const DAY_MS = 86_400_000;

export interface RetentionLoopOptions {
  policy: RetentionPolicy;
  /** How long finished runs are kept after they ended (seconds); null or absent: forever. */
  runRetentionSeconds?: number | null;
  /** Run purge batch size and batches per pass (tests; defaults in engine-core). */
  runBatch?: { size?: number; maxBatches?: number };
  /** Signal tombstones (and step waiters, step outputs) looked at per statement and statements per pass (tests; defaults in tombstone-purge.ts). */
  tombstoneBatch?: { size?: number; maxBatches?: number };
  /** Time between passes (default one hour). */
  intervalMs?: number;
  /** The clock (tests); default: now. */
  now?: () => Date;
  logger?: { error(obj: object, msg: string): void; info?(obj: object, msg: string): void };
}

/**
 * The service's partition maintenance: at start it stores the configured policy and creates the
 * partitions it needs ahead; then it runs a retention pass every interval (creating the next
 * days, dropping expired ones). Several processes may each run one: passes serialise on an
 * advisory lock and skip what another process is doing.
 */
export class RetentionLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionPassResult> | undefined;
  /** The last pass's result and when it ended (ISO-8601), for the status and metrics. */
  last: { result: RetentionPassResult; at: string } | undefined;
  lastError: string | undefined;
  /** Where the last pass's walk over the signal tombstones stopped (null: at the end). */
  private tombstoneCursor: TombstoneCursor | null = null;
  private runLinkedCursors: RunLinkedCursors | undefined;
  /** Whether this process walked the tombstones at least once. */
  private walked = false;

  constructor(
    private readonly db: Db,
    private readonly opts: RetentionLoopOptions,
  ) {}

  /** Finished runs' retention (seconds), null: kept forever. */
  get runRetentionSeconds(): number | null {
    return this.opts.runRetentionSeconds ?? null;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  async start(): Promise<void> {
    await setRetentionPolicy(this.db, this.opts.policy);
    const now = this.now();
    await ensurePartitions(this.db, now, new Date(now.getTime() + longestRetentionSeconds(this.opts.policy) * 1000 + 2 * DAY_MS));
    await ensureHistoryPartitions(this.db, { now });
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.runNow()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.schedule(this.opts.intervalMs ?? 3_600_000);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass now (joins the one in flight); errors are recorded and rethrown. */
  runNow(): Promise<RetentionPassResult> {
    this.running ??= (async () => {
      try {
        const now = this.now();
        const result = await runRetentionPass(this.db, { now });
        const started = Date.now();
        // The run history's weekly partitions are created ahead whatever the run retention.
        result.created.push(...(await ensureHistoryPartitions(this.db, { now })).created);
        const keep = this.runRetentionSeconds;
        if (keep !== null) {
          const cutoff = new Date(now.getTime() - keep * 1000);
          result.runs = await purgeExpiredRuns(this.db, { cutoff, now, batchSize: this.opts.runBatch?.size, maxBatches: this.opts.runBatch?.maxBatches });
          // After the purge: a week whose runs are all purged now holds only rows nobody reads.
          result.history = await dropExpiredHistory(this.db, cutoff, { now });
          if (result.runs.runs > 0) this.opts.logger?.info?.({ runs: result.runs }, 'retention pass purged expired finished runs');
          if (result.history.dropped.length > 0) this.opts.logger?.info?.({ dropped: result.history.dropped }, 'retention pass dropped expired run-history partitions');
        }
        // Last: a tombstone goes once the runs its lineage leads to are purged (by this pass too).
        // The walks read every tombstone (and step waiter, output record): they run on this
        // process's first pass, while one is unfinished, and after a pass that purged runs or
        // wrote tombstones; otherwise nothing can have become removable since the last walk.
        const changed = (result.runs?.runs ?? 0) > 0 || result.dropped.some((d) => d.tombstones > 0);
        if (!this.walked || changed || this.tombstoneCursor !== null || this.runLinkedCursors?.waiters != null || this.runLinkedCursors?.outputs != null) {
          const batch = { batchSize: this.opts.tombstoneBatch?.size, maxBatches: this.opts.tombstoneBatch?.maxBatches };
          const tombs = await purgeTombstones(this.db, { after: this.tombstoneCursor, ...batch });
          this.tombstoneCursor = tombs.cursor;
          result.tombstones = { removed: tombs.removed, edges: tombs.edges, scanned: tombs.scanned, more: tombs.cursor !== null };
          const linked = await purgeRunLinkedRows(this.db, { after: this.runLinkedCursors, ...batch });
          this.runLinkedCursors = linked.cursors;
          result.runSignalRows = { waiters: linked.waiters, outputs: linked.outputs };
          this.walked = true;
        } else {
          result.tombstones = { removed: 0, edges: 0, scanned: 0, more: false };
          result.runSignalRows = { waiters: 0, outputs: 0 };
        }
        if (result.tombstones.removed > 0) this.opts.logger?.info?.({ tombstones: result.tombstones }, 'retention pass removed signal tombstones whose runs were purged');
        result.durationMs += Date.now() - started;
        this.last = { result, at: new Date().toISOString() };
        this.lastError = undefined;
        if (result.dropped.length > 0) this.opts.logger?.info?.({ dropped: result.dropped, created: result.created.length }, 'retention pass dropped expired signal partitions');
        return result;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.opts.logger?.error({ err }, 'retention pass failed; the next one retries');
        throw err;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
