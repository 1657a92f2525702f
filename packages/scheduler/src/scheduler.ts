import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db, Queryable } from '@baton/engine-core';
import { type CompileOptions, type TimeTriggerDefinition } from './cron/trigger.js';
import { type Clock, type WorkflowStarter } from './ports.js';
import { advanceRows, lockDue, lockOne, type FiringRow } from './firing-sql.js';
import { activateTimeTriggersInTx, pauseTimeTriggersInTx, type ActivationPreview, type PauseRequest } from './pauses.js';
import { earliestWakeup, listSchedule, type ActiveSchedule, type ScheduleRow } from './schedule-rows.js';
import { listSchedules, type ScheduleListQuery, type SchedulePage } from './schedule-list.js';
import { syncSchedules, type SyncItem, type SyncReport } from './sync.js';
import { seedWatermarks } from './watermarks.js';
import { planBatch } from './fire-plan.js';
import { addTick, emptyTick, type TickResult } from './tick-result.js';

export type { TickResult } from './tick-result.js';

export interface SchedulerOptions {
  db: Db;
  starter: WorkflowStarter;
  /** Epoch ms; inject a controllable clock in tests. Default `Date.now`. */
  now?: Clock;
  /** This process's name in leases; default host:pid:random. */
  owner?: string;
  /**
   * How long a firing transaction may sit idle before PostgreSQL ends it and releases its rows to
   * other processes (a process that dies releases them at once with its connection). Default 30 s.
   */
  leaseMs?: number;
  /** Upper bound between looks at the table (safety net for changes made by other processes). Default 5 s. */
  pollIntervalMs?: number;
  /** Rows started and advanced per transaction. Default 100. */
  txBatch?: number;
  /** Transactions in flight at once. Default 4. */
  concurrency?: number;
  /** A fire started within this long of its due time is on time; later it counts as missed. Default 60 s. */
  misfireGraceMs?: number;
  /** After a failed start, the row is retried this much later. Default 30 s. */
  retryDelayMs?: number;
  compile?: CompileOptions;
  onError?: (err: unknown, context: string) => void;
}

/**
 * Starts workflows at their time triggers' fire times, exactly once per fire time, from a
 * durable schedule table shared by every Baton process. Each transaction claims a batch of due
 * rows (`FOR UPDATE SKIP LOCKED`, so processes split the work and never wait on each other),
 * starts their runs and advances the rows: a crash commits both or neither, and the request id
 * `time-trigger:<workflow>:<trigger>:<fire time>` makes any retry harmless. One timer, armed for
 * the earliest due row and never longer than the poll interval, wakes the process; the table, not
 * the timer, is the truth.
 */
export class Scheduler {
  readonly owner: string;
  readonly stats: TickResult = emptyTick();
  private readonly now: Clock;
  private readonly o: Required<Omit<SchedulerOptions, 'db' | 'starter' | 'now' | 'owner' | 'compile' | 'onError'>>;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private looping: Promise<void> | undefined;
  private again = false;
  private wakeGeneration = 0;
  private lastClaimed = 0;
  private readonly fireListeners = new Set<(delaysMs: readonly number[]) => void>();

  constructor(private readonly opts: SchedulerOptions) {
    this.now = opts.now ?? Date.now;
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.o = {
      leaseMs: opts.leaseMs ?? 30_000,
      pollIntervalMs: opts.pollIntervalMs ?? 5_000,
      txBatch: opts.txBatch ?? 100,
      concurrency: opts.concurrency ?? 4,
      misfireGraceMs: opts.misfireGraceMs ?? 60_000,
      retryDelayMs: opts.retryDelayMs ?? 30_000,
    };
  }

  private onError(err: unknown, context: string): void {
    if (this.opts.onError) this.opts.onError(err, context);
    else process.emitWarning(`scheduler: ${context}: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** Applies a workflow's active definition (null = inactive) to its schedule rows, then wakes the timer. */
  async syncWorkflow(workflowId: string, active: ActiveSchedule | null): Promise<SyncReport> {
    return this.syncMany([{ workflowId, active }]);
  }

  async syncMany(items: readonly SyncItem[]): Promise<SyncReport> {
    const report = await this.opts.db.tx((tx) => syncSchedules(tx, items, this.now(), this.opts.compile));
    this.wake();
    return report;
  }

  /** For a caller that changes the definition and the schedule in one transaction; call `wake()` after commit. */
  syncInTx(tx: Queryable, items: readonly SyncItem[]): Promise<SyncReport> {
    return syncSchedules(tx, items, this.now(), this.opts.compile);
  }

  /**
   * At start-up: the schedule follows exactly these active workflows; rows of any other workflow
   * are disabled.
   */
  async reconcile(actives: ReadonlyArray<{ workflowId: string } & ActiveSchedule>): Promise<SyncReport> {
    const wanted = new Map(actives.map((a) => [a.workflowId, a] as const));
    const items: SyncItem[] = actives.map((a) => ({ workflowId: a.workflowId, active: a }));
    const res = await this.opts.db.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM scheduler_triggers WHERE enabled');
    for (const r of res.rows) if (!wanted.has(r.workflow_id)) items.push({ workflowId: r.workflow_id, active: null });
    const total: SyncReport = { scheduled: 0, disabled: 0, removed: 0, invalid: [] };
    for (let i = 0; i < items.length; i += 1000) {
      const part = await this.opts.db.tx((tx) => syncSchedules(tx, items.slice(i, i + 1000), this.now(), this.opts.compile));
      total.scheduled += part.scheduled;
      total.disabled += part.disabled;
      total.removed += part.removed;
      total.invalid.push(...part.invalid);
    }
    this.wake();
    return total;
  }

  /** Continues a workflow's schedules from known watermarks (see `seedWatermarks`), then wakes the timer. */
  async importWatermarks(workflowId: string, entries: ReadonlyArray<{ trigger: TimeTriggerDefinition; watermarkMs: number }>): Promise<string[]> {
    const keys = await this.opts.db.tx((tx) => seedWatermarks(tx, workflowId, entries, this.opts.compile));
    this.wake();
    return keys;
  }

  /**
   * Calls `listener` after each firing transaction committed with, per run it started, how late
   * the run was created: the clock's now minus the fire's due time (fire time plus any fuzzy
   * delay). Returns a function that removes the listener.
   */
  onFiresStarted(listener: (delaysMs: readonly number[]) => void): () => void {
    this.fireListeners.add(listener);
    return () => this.fireListeners.delete(listener);
  }

  private reportFires(dueMs: readonly number[]): void {
    if (dueMs.length === 0 || this.fireListeners.size === 0) return;
    const now = this.now();
    const delays = dueMs.map((d) => Math.max(0, now - d));
    for (const l of this.fireListeners) {
      try {
        l(delays);
      } catch (err) {
        // The runs are committed: a failing listener must not make the caller fire them again.
        this.onError(err, 'reporting started fires');
      }
    }
  }

  list(workflowId?: string): Promise<ScheduleRow[]> {
    return listSchedule(this.opts.db, workflowId);
  }

  /** The schedule list (pause state, next fire times never in the past) at this scheduler's clock. */
  listPage(query: Omit<ScheduleListQuery, 'now' | 'compile'>): Promise<SchedulePage> {
    return listSchedules(this.opts.db, { ...query, now: this.now(), compile: this.opts.compile });
  }

  /**
   * Pauses time triggers in the caller's transaction (which may pause signal triggers too): it
   * waits for fires claimed before it, and no fire is claimed after it commits.
   */
  pauseInTx(tx: Queryable, req: PauseRequest): Promise<boolean> {
    return pauseTimeTriggersInTx(tx, req);
  }

  /**
   * Activates paused time triggers in the caller's transaction and starts, in it, what came due
   * while they were paused as each trigger's catch-up policy decides (exactly the returned
   * preview). Call `wake()` after the commit; with `dryRun` nothing changes.
   */
  async activateInTx(tx: Queryable, workflowId: string, triggerKey: string | undefined, dryRun = false): Promise<{ changed: boolean; previews: ActivationPreview[] }> {
    const now = this.now();
    // Every fire time that came due while paused was missed on purpose: no grace, the policy decides.
    const res = await activateTimeTriggersInTx(tx, workflowId, triggerKey, { now, graceMs: 0, ...(this.opts.compile ? { compile: this.opts.compile } : {}), dryRun });
    if (!dryRun && res.resumed.length > 0) addTick(this.stats, await this.fireRows(tx, res.resumed, now, [], 0));
    return { changed: res.changed, previews: res.previews };
  }

  /**
   * Starts every due fire time. `concurrency` workers each lock a batch of due rows, start and
   * advance them in one transaction, and go again until no due row is left, so no worker waits
   * for a slower one between batches.
   */
  async tick(): Promise<TickResult> {
    const total = emptyTick();
    let drained = false;
    const worker = async (): Promise<void> => {
      while (!drained) {
        const now = this.now();
        const seen: FiringRow[] = [];
        let res: TickResult;
        try {
          const due: number[] = [];
          res = await this.opts.db.tx(async (tx) => {
            await this.bound(tx);
            const rows = await lockDue(tx, now, this.o.txBatch);
            seen.push(...rows);
            return this.fireRows(tx, rows, now, due);
          });
          this.reportFires(due);
        } catch (err) {
          if (seen.length === 0) {
            // The database itself failed: the next wake-up tries again.
            this.onError(err, 'claiming due triggers');
            drained = true;
            break;
          }
          res = await this.isolate(seen, now);
        }
        if (seen.length < this.o.txBatch) drained = true;
        addTick(total, res);
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
    addTick(this.stats, total);
    return total;
  }

  /**
   * A transaction that stalls (a paused or partitioned process) must not hold its rows forever:
   * PostgreSQL ends it after `leaseMs` idle, releasing the rows for another process.
   */
  private async bound(tx: Queryable): Promise<void> {
    if (this.opts.db.kind === 'postgres') await tx.query(`SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1000, Math.round(this.o.leaseMs))}`);
  }

  /** After a failed batch: fire its rows one by one, so one bad row does not hold back the others. */
  private async isolate(rows: readonly FiringRow[], now: number): Promise<TickResult> {
    const total = emptyTick();
    for (const row of rows) {
      if (row.next_fire_ms === null) continue;
      const expected = row.next_fire_ms;
      try {
        const due: number[] = [];
        addTick(
          total,
          await this.opts.db.tx(async (tx) => {
            await this.bound(tx);
            return this.fireRows(tx, await lockOne(tx, row.workflow_id, row.trigger_key, expected, now), now, due);
          }),
        );
        this.reportFires(due);
      } catch (err) {
        this.onError(err, `starting ${row.workflow_id} trigger ${row.trigger_key}`);
        await this.deferFailed(row, expected, err);
        total.claimed++;
        total.failed++;
      }
    }
    return total;
  }

  /** Fires the rows in the caller's transaction; `due` receives the due time of every run started. */
  private async fireRows(tx: Queryable, rows: readonly FiringRow[], now: number, due: number[], graceMs = this.o.misfireGraceMs): Promise<TickResult> {
    const { result, advances, requests } = planBatch(rows, now, due, graceMs, this.opts.compile);
    const starter = this.opts.starter;
    if (starter.startWorkflows && requests.length > 1) await starter.startWorkflows(tx, requests);
    else for (const req of requests) await starter.startWorkflow(tx, req);
    await advanceRows(tx, this.owner, advances);
    return result;
  }

  /** Retries a row whose start failed later, keeping its fire time (unless someone fired it meanwhile). */
  private async deferFailed(row: FiringRow, expectedFire: number, err: unknown): Promise<void> {
    try {
      await this.opts.db.query(
        `UPDATE scheduler_triggers SET next_due_ms = $4, last_error = $5, updated_at = now()
          WHERE workflow_id = $1 AND trigger_key = $2 AND next_fire_ms = $3`,
        [row.workflow_id, row.trigger_key, expectedFire, this.now() + this.o.retryDelayMs, err instanceof Error ? err.message : String(err)],
      );
    } catch (e) {
      // The row stays due and is tried again on the next round.
      this.onError(e, `deferring ${row.workflow_id} trigger ${row.trigger_key}`);
    }
  }

  /** Begins firing on timers. Tests that drive the clock call `tick()` instead. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  /** Stops the timers and waits for a round in progress. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.looping;
  }

  /** Look at the table now (a schedule changed in this process). */
  wake(): void {
    this.wakeGeneration++;
    if (!this.running) return;
    this.setTimer(0);
  }

  private setTimer(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), delay);
  }

  private async loop(): Promise<void> {
    if (this.looping) {
      this.again = true;
      return;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        try {
          this.lastClaimed = (await this.tick()).claimed;
        } catch (err) {
          this.onError(err, 'tick');
        }
      } while (this.again && this.running);
      await this.arm();
    };
    this.looping = run().finally(() => {
      this.looping = undefined;
    });
    await this.looping;
  }

  private async arm(): Promise<void> {
    if (!this.running) return;
    const generation = this.wakeGeneration;
    let delay = this.o.pollIntervalMs;
    try {
      const at = await earliestWakeup(this.opts.db);
      // Due rows another process is firing right now: back off instead of spinning.
      const floor = this.lastClaimed === 0 ? 250 : 0;
      if (at !== null) delay = Math.min(Math.max(at - this.now(), floor), this.o.pollIntervalMs);
    } catch (err) {
      this.onError(err, 'reading the next wake-up');
    }
    if (!this.running) return;
    // A wake() while the query ran may concern a row the query did not see yet.
    this.setTimer(generation !== this.wakeGeneration ? 0 : delay);
  }
}
