/**
 * Runs queue handlers. Wake-ups come from three places, fastest first: an in-process notification
 * when this process added the job, PostgreSQL `LISTEN/NOTIFY` when another process did, and a
 * low-frequency poll as the safety net (which also picks up jobs whose lease expired — the sweeper
 * — and jobs whose `run_at` arrived).
 */
import { randomUUID } from 'node:crypto';
import type { Job, LocalRunner, Queue } from './queue.js';
import { listenForJobs } from './listen.js';

export interface JobContext {
  /** Aborted when the lease is lost or the worker stops: stop work, the job will be re-delivered. */
  signal: AbortSignal;
  workerId: string;
}

export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;

export interface WorkerOptions {
  handlers: Record<string, JobHandler>;
  /** Jobs run at once (default 10). */
  concurrency?: number;
  /** Lease length; renewed every third of it while a handler runs (default 30 s). */
  leaseMs?: number;
  /** Safety-net poll interval (default 1 s). */
  pollMs?: number;
  workerId?: string;
  /** Called when a handler throws (after the job has been rescheduled). */
  onError?: (job: Job, err: unknown) => void;
}

export class Worker implements LocalRunner {
  readonly workerId: string;
  readonly leaseMs: number;
  private readonly kinds: string[];
  private readonly concurrency: number;
  private readonly pollMs: number;
  private running = 0;
  private started = false;
  private claiming = false;
  private again = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly delayTimers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private readonly active = new Map<number, { ctrl: AbortController; done: Promise<void> }>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly queue: Queue,
    private readonly opts: WorkerOptions,
  ) {
    this.workerId = opts.workerId ?? `worker-${randomUUID()}`;
    this.kinds = Object.keys(opts.handlers);
    this.concurrency = opts.concurrency ?? 10;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 1_000;
    if (this.kinds.length === 0) throw new Error('a worker needs at least one handler');
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.queue.attachRunner(this);
    this.unsubscribe = this.queue.onWake((kind, runAt) => {
      if (!this.kinds.includes(kind)) return;
      const delay = runAt - Date.now();
      if (delay <= 0) return this.pump();
      const t = setTimeout(() => {
        this.delayTimers.delete(t);
        this.pump();
      }, delay + 2);
      this.delayTimers.add(t);
    });
    if (this.queue.db.kind === 'postgres') {
      this.stopListening = await listenForJobs(this.queue.db, (kind) => {
        if (this.kinds.includes(kind)) this.pump();
      });
    }
    const poll = (): void => {
      this.pollTimer = setTimeout(() => {
        this.pump();
        poll();
      }, this.pollMs);
    };
    poll();
    this.pump();
  }

  /** Stops claiming, aborts running handlers and waits for them to settle. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.queue.attachRunner(undefined);
    clearTimeout(this.pollTimer);
    for (const t of this.delayTimers) clearTimeout(t);
    this.delayTimers.clear();
    this.unsubscribe?.();
    await this.stopListening?.();
    for (const a of this.active.values()) a.ctrl.abort(new Error('worker stopping'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    while (this.claiming) await new Promise((r) => setTimeout(r, 5));
  }

  /** Resolves when no job is running and the last claim found nothing (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.running === 0 && !this.claiming) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  handles(kind: string): boolean {
    return this.kinds.includes(kind);
  }

  hasCapacity(): boolean {
    return this.started && this.running < this.concurrency;
  }

  /** Runs a job this process added already claimed for this worker (see `Queue.tx`). */
  adopt(job: Job): void {
    if (!this.started) return; // its lease expires and the job is claimed normally
    this.run(job);
  }

  /** Asks for a claim round; rounds never overlap, a request during one triggers another. */
  pump(): void {
    if (!this.started) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    void this.claimLoop();
  }

  private async claimLoop(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.again = false;
        const free = this.concurrency - this.running;
        if (free <= 0 || !this.started) break;
        let jobs: Job[];
        try {
          jobs = await this.queue.claim(this.workerId, this.kinds, free, this.leaseMs);
        } catch {
          // The database is unreachable for now; the poll timer tries again.
          break;
        }
        for (const job of jobs) this.run(job);
        if (jobs.length === free) this.again = true;
      } while (this.again);
    } finally {
      this.claiming = false;
      this.settleIdle();
    }
  }

  private run(job: Job): void {
    const handler = this.opts.handlers[job.kind]!;
    const ctrl = new AbortController();
    this.running++;
    let leaseDeadline = Date.now() + this.leaseMs;
    // Renew at a quarter of the lease; abort locally once two thirds of it passed since the last
    // renewal the database confirmed, so the next owner never starts while this handler still runs.
    const renew = setInterval(() => {
      const askedAt = Date.now();
      this.queue.renew(job, this.leaseMs).then(
        (ok) => {
          if (ok) leaseDeadline = askedAt + this.leaseMs;
          else ctrl.abort(new Error('lease lost'));
        },
        () => {},
      );
      if (Date.now() > leaseDeadline - this.leaseMs / 3) ctrl.abort(new Error('lease expiring without renewal'));
    }, this.leaseMs / 4);
    const done = (async () => {
      try {
        await handler(job, { signal: ctrl.signal, workerId: this.workerId });
        clearInterval(renew);
        if (!ctrl.signal.aborted) await this.queue.complete(job);
      } catch (err) {
        clearInterval(renew);
        if (!ctrl.signal.aborted) {
          await this.queue.fail(job, err).catch(() => {});
          this.opts.onError?.(job, err);
        }
      }
    })().finally(() => {
      this.active.delete(job.id);
      this.running--;
      this.pump();
      this.settleIdle();
    });
    this.active.set(job.id, { ctrl, done });
  }

  private settleIdle(): void {
    if (this.running === 0 && !this.claiming && !this.again) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }
}
