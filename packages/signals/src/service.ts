import { PgDb, PGliteDb, type Db, type Queryable } from '@baton/engine-core';
import type pg from 'pg';
import { bypassWaiter, cancelWaiter, checkDependencies, getWaiter, registerWaiter, type DependencyCheck, type ResolvedDependency, type WaiterState } from './dependencies.js';
import { downstreamOfSignal, upstreamOfWorkflow, type LineageGraph } from './lineage.js';
import { Matcher } from './matcher.js';
import type { PublishResult, SignalInstance, SignalSource } from './model.js';
import { emitOutputs, type StepOutput } from './outputs.js';
import type { ActiveDefinition, StepAttemptRef, StepGateListener, TriggerExpressions, WorkflowStarter } from './ports.js';
import { GroupCommitter } from './group-commit.js';
import { publishInTx, SIGNAL_CHANNEL, type PublishedHook } from './publish.js';
import { SignalStats } from './stats.js';
import { getInstance, listInstances, type InstancePage, type ListQuery } from './queries.js';
import { syncSubscriptionsInTx, type SyncOptions, type SyncResult } from './subscriptions.js';
import { normalizeBatch } from './validate.js';
import { SignalNotFoundError } from './errors.js';
import { signalTombstones } from './tombstones.js';
import { deferMs, IngestPressure } from './ingest-pressure.js';

/** See SignalServiceOptions.matchLagWhileIngestingMs. */
export const DEFAULT_MATCH_LAG_WHILE_INGESTING_MS = 5000;

export interface SignalServiceOptions {
  starter: WorkflowStarter;
  expressions: TriggerExpressions;
  gates?: StepGateListener;
  /** Where background errors go (a pino logger fits); default: stderr. */
  logger?: { error(obj: object, msg: string): void };
  /** Match jobs per matcher transaction (default 500). */
  matchBatchSize?: number;
  /** Concurrent matcher loops in this process (default 2 on PostgreSQL, 1 on PGlite). */
  matcherConcurrency?: number;
  /**
   * Publishing transactions in flight at once; further publishes join the next one (default 2 on
   * PostgreSQL, 1 on PGlite). Batches that share names serialise on the per-name counters anyway,
   * so more transactions in flight mostly wait on those locks while fewer, larger ones commit.
   */
  publishConcurrency?: number;
  /**
   * Matchers wake on a notification from every publishing transaction (any process); this sweep
   * only covers a lost notification or a listener reconnect.
   */
  sweepIntervalMs?: number;
  /**
   * A complete join whose workflow start failed is fired again by a sweep, first this long after
   * the failure (default 1 s), the delay doubling while starts keep failing up to
   * `startRetryMaxMs` (default 60 s), which is also how often the sweep runs as a safety net.
   */
  startRetryBaseMs?: number;
  startRetryMaxMs?: number;
  /** Called in every transaction of publish() and publishInTx() once the batch is stored. */
  onPublished?: PublishedHook;
  /**
   * While this process ingests in bulk (Kafka), the matcher loops let matching lag behind by up
   * to this long rather than compete with the ingest for the database (default 5000 ms; 0: match
   * eagerly). Once ingestion pauses, or the oldest unmatched signal is this old, they catch up.
   */
  matchLagWhileIngestingMs?: number;
}

/**
 * The signals domain service: publishing, queries, trigger subscriptions, the background
 * matcher, step gates and outputs, lineage. One per process; several processes may share a
 * database.
 */
export class SignalService {
  /** Cumulative counts for the metrics endpoint (signals stored and duplicates by source, firings). */
  readonly stats = new SignalStats();
  /** Marked by this process's Kafka ingestor (SourcesRuntime's `ingestPressure`); read by the matcher loops. */
  readonly ingestPressure = new IngestPressure();
  private readonly matcher: Matcher;
  private readonly committer: GroupCommitter;
  private running = false;
  private loops: Promise<void>[] = [];
  private wakers: (() => void)[] = [];
  private pendingWake = false;
  private listenClient: pg.PoolClient | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    readonly db: Db,
    private readonly opts: SignalServiceOptions,
  ) {
    this.matcher = new Matcher(
      db,
      {
        starter: opts.starter,
        expressions: opts.expressions,
        gates: opts.gates,
        onError: (err, what) => this.report(err, what),
        stats: this.stats,
        retryBaseMs: opts.startRetryBaseMs,
        retryMaxMs: opts.startRetryMaxMs,
      },
      opts.matchBatchSize ?? 500,
    );
    this.committer = new GroupCommitter(db, opts.publishConcurrency ?? (db.kind === 'postgres' ? 2 : 1), () => this.wake(), opts.onPublished);
  }

  private report(err: unknown, what: string): void {
    if (this.opts.logger) this.opts.logger.error({ err }, `signals: ${what} failed`);
    else console.error(`signals: ${what} failed:`, err);
  }

  /**
   * Validates and stores a batch (1..1000) atomically: any invalid signal rejects the batch with
   * a SignalValidationError naming each field at fault, and nothing is stored. Duplicates
   * (same request id, else same name + params) return the first instance with duplicate: true.
   */
  async publish(signals: readonly unknown[], source: SignalSource = { type: 'REST' }): Promise<PublishResult[]> {
    const results = await this.committer.publish(normalizeBatch(signals), source);
    this.stats.recordPublished(source, results);
    return results;
  }

  /** As publish, inside the caller's transaction (matching starts once it commits). */
  async publishInTx(tx: Queryable, signals: readonly unknown[], source: SignalSource): Promise<PublishResult[]> {
    const normalized = normalizeBatch(signals);
    const results = await publishInTx(tx, normalized, source);
    await this.opts.onPublished?.(tx, results, normalized);
    return results;
  }

  getInstance(name: string, seq: number | bigint | 'latest'): Promise<SignalInstance> {
    return getInstance(this.db, name, seq);
  }

  listInstances(name: string, query?: ListQuery): Promise<InstancePage> {
    return listInstances(this.db, name, query);
  }

  /** Lineage downstream of a signal instance; throws SignalNotFoundError for an unknown instance. */
  async lineageOfSignal(name: string, seq: number | bigint | 'latest', depth: number): Promise<LineageGraph> {
    try {
      const inst = await getInstance(this.db, name, seq);
      return await downstreamOfSignal(this.db, inst.name, inst.seq_id, depth);
    } catch (err) {
      // A purged instance's lineage stays readable while its tombstone is kept.
      if (!(err instanceof SignalNotFoundError) || seq === 'latest') throw err;
      if ((await signalTombstones(this.db, [{ name, seq: seq.toString() }])).length === 0) throw err;
      return downstreamOfSignal(this.db, name, seq, depth);
    }
  }

  lineageOfWorkflowInstance(workflowId: string, workflowInstanceId: string | number | bigint, depth: number): Promise<LineageGraph> {
    return upstreamOfWorkflow(this.db, workflowId, workflowInstanceId, depth);
  }

  /** The lifecycle listener's entry point: activation, deactivation (null), new version, trigger switch. */
  async syncSubscriptions(workflowId: string, active: ActiveDefinition | null, opts: SyncOptions = {}): Promise<SyncResult> {
    const res = await this.db.tx((tx) => syncSubscriptionsInTx(tx, workflowId, active, opts));
    if (opts.backfillFrom) this.wake();
    return res;
  }

  syncSubscriptionsInTx(tx: Queryable, workflowId: string, active: ActiveDefinition | null, opts: SyncOptions = {}): Promise<SyncResult> {
    return syncSubscriptionsInTx(tx, workflowId, active, opts);
  }

  /** At start-up: subscriptions for exactly these active definitions; every other workflow's go. */
  async rebuildSubscriptions(actives: readonly ActiveDefinition[]): Promise<void> {
    const wanted = new Set(actives.map((a) => a.workflowId));
    for (const a of actives) await this.syncSubscriptions(a.workflowId, a);
    const res = await this.db.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM signal_subscriptions WHERE active');
    for (const r of res.rows) if (!wanted.has(r.workflow_id)) await this.syncSubscriptions(r.workflow_id, null);
  }

  // Step gates (signal dependencies) and outputs.

  checkDependencies(deps: readonly ResolvedDependency[]): Promise<DependencyCheck> {
    return checkDependencies(this.db, deps);
  }

  registerWaiter(tx: Queryable, step: StepAttemptRef, deps: readonly ResolvedDependency[]): Promise<DependencyCheck> {
    return registerWaiter(tx, step, deps);
  }

  bypass(tx: Queryable, step: StepAttemptRef): Promise<boolean> {
    return bypassWaiter(tx, step, this.opts.gates);
  }

  cancelWaiter(tx: Queryable, step: StepAttemptRef): Promise<boolean> {
    return cancelWaiter(tx, step);
  }

  getWaiter(step: StepAttemptRef): Promise<WaiterState | undefined> {
    return getWaiter(this.db, step);
  }

  /** Counted as source `step_output` when written (the step's own transaction may still roll back and retry). */
  async emitOutputs(tx: Queryable, step: StepAttemptRef, outputs: readonly StepOutput[]): Promise<PublishResult[]> {
    const results = await emitOutputs(tx, step, outputs);
    this.stats.recordPublished({ type: 'STEP_OUTPUT' }, results);
    return results;
  }

  // The background matcher.

  /**
   * Fires, now, every complete join still waiting because its workflow start failed (the
   * background loops do this on their own, with backoff). Returns how many firings were recorded.
   */
  retryStalledJoins(): Promise<number> {
    return this.matcher.retryStalled(true);
  }

  /**
   * Processes match jobs until the queue is empty (tests, and one-shot tools), returning how many
   * signals this call matched. Jobs another matcher holds (this process's loops or another
   * process's, skipped by the claim's SKIP LOCKED) are waited for: when it returns, every signal
   * queued before the call has been matched and committed. Throws, naming what is left, when the
   * queue is not empty after `timeoutMs`.
   */
  async drain(timeoutMs = 120_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let total = 0;
    for (;;) {
      const n = await this.matcher.runOnce();
      total += n;
      if (n > 0) continue;
      const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_match_queue');
      if (rows[0]!.n === 0) return total;
      if (Date.now() > deadline) throw new Error(`signal matching did not drain within ${timeoutMs} ms: ${rows[0]!.n} match jobs still queued, held by another matcher`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Starts the matcher loops and the cross-process wake-up listener. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.listen();
    const n = this.opts.matcherConcurrency ?? (this.db.kind === 'postgres' ? 2 : 1);
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    this.ingestPressure.release();
    await Promise.all(this.loops);
    this.loops = [];
    if (this.listenClient) {
      const c = this.listenClient;
      this.listenClient = undefined;
      // Destroyed, not pooled: a pooled connection would stay subscribed for whoever borrows it next.
      c.release(true);
    }
    if (this.unlisten) await this.unlisten();
    this.unlisten = undefined;
  }

  private wake(): void {
    const ws = this.wakers;
    this.wakers = [];
    if (ws.length === 0) this.pendingWake = true;
    for (const w of ws) w();
  }

  private waitForWork(ms: number): Promise<void> {
    if (this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.push(done);
    });
  }

  private async loop(): Promise<void> {
    const sweep = this.opts.sweepIntervalMs ?? 1000;
    while (this.running) {
      let n: number;
      try {
        n = await this.matcher.runOnce();
        if (n === 0) n = await this.matcher.retryStalled();
      } catch (err) {
        this.report(err, 'matching');
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (n === 0 && this.running) await this.waitForWork(sweep);
      else if (this.running) {
        const wait = deferMs(this.ingestPressure, this.opts.matchLagWhileIngestingMs ?? DEFAULT_MATCH_LAG_WHILE_INGESTING_MS, this.matcher.newestMatchedAgeMs);
        if (wait > 0) await this.ingestPressure.idleOrAfter(wait);
      }
    }
  }

  private async listen(): Promise<void> {
    if (this.db instanceof PgDb) {
      let client: pg.PoolClient | undefined;
      try {
        client = await this.db.pool.connect();
        const c = client;
        c.on('notification', () => this.wake());
        c.on('error', () => {
          // The listener connection broke: drop it and listen again; the sweep covers the gap.
          // Only while it is the listener: stop (or the failed LISTEN below) gave it back already.
          if (this.listenClient === c) {
            this.listenClient = undefined;
            c.release(true);
            if (this.running) setTimeout(() => void this.listen(), 500);
          }
        });
        await c.query(`LISTEN ${SIGNAL_CHANNEL}`);
        if (!this.running) {
          c.release(true); // stopped while LISTEN ran
          return;
        }
        this.listenClient = c;
      } catch (err) {
        client?.release(true); // a LISTEN that failed: never the listener, given back here once
        this.report(err, 'listening for signal notifications');
        if (this.running) setTimeout(() => void this.listen(), 1000);
      }
    } else if (this.db instanceof PGliteDb) {
      this.unlisten = await this.db.pg.listen(SIGNAL_CHANNEL, () => this.wake());
    }
  }
}
