/**
 * Bulk ingestion in progress in this process (Kafka chunks being stored), which the background
 * matcher defers to within a lag bound: while it lasts, a matcher loop that has caught up to
 * signals younger than the bound waits instead of competing with the ingest for the database and
 * the CPU, and catches up once the ingest pauses or the oldest unmatched signal reaches the bound.
 * Total matching work is unchanged; a burst is stored first and matched just after.
 */
export class IngestPressure {
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private busyUntilIdle = false;

  /**
   * @param graceMs how long ingestion still counts as busy after its last chunk was stored: the
   *   gap between two fetched batches is not an idle period the matcher should wake up for.
   */
  constructor(private readonly graceMs = 100) {}

  /** True while a chunk is being stored, and for the grace period after the last one. */
  get busy(): boolean {
    return this.inFlight > 0 || this.busyUntilIdle;
  }

  /** A chunk starts being stored. */
  enter(): void {
    this.inFlight++;
    this.busyUntilIdle = true;
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  /** A chunk is stored (or failed). */
  leave(): void {
    if (this.inFlight === 0) return;
    this.inFlight--;
    if (this.inFlight > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inFlight > 0) return;
      this.busyUntilIdle = false;
      this.release();
    }, this.graceMs);
    this.idleTimer.unref();
  }

  /** Resolves once ingestion goes idle, after `ms`, or on `release()`, whichever is first. */
  idleOrAfter(ms: number): Promise<void> {
    if (!this.busy || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiters = this.waiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i >= 0) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  /** Wakes every waiter now (ingestion went idle, or the service stops). */
  release(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/**
 * How long a matcher loop waits before its next batch: while ingestion is busy and the newest
 * signal it just matched is younger than `lagMs`, until that one would be `lagMs` old (the queue
 * is matched in order, so the next batch's signals are at most that old then); otherwise 0.
 */
export function deferMs(pressure: IngestPressure | undefined, lagMs: number, newestAgeMs: number | undefined): number {
  if (!pressure?.busy || lagMs <= 0 || newestAgeMs === undefined) return 0;
  return Math.max(0, lagMs - newestAgeMs);
}
