/**
 * The durable queue: a transactional outbox in the `baton_jobs` table.
 *
 * Guarantees (each has a test in `test/queue/`):
 * 1. Atomic hand-off: `add` runs inside the caller's transaction, so a job exists exactly when the
 *    state change that needs it committed. A rolled-back transaction leaves no job behind.
 * 2. Exclusive claim: a job is claimed with `FOR UPDATE SKIP LOCKED` and a lease (`locked_until`);
 *    while the lease runs no other worker can claim it, however many workers poll at once.
 * 3. At-least-once delivery, no loss on crash: a job is deleted only by the worker holding its
 *    current lease, after its handler finished. A worker that dies (or stalls) loses the lease when
 *    it expires, and the next claim re-delivers the job (`attempts` counts deliveries).
 * 4. Fencing: every claim bumps `generation`; renewing, finishing and failing present it, so a
 *    worker whose lease ran out cannot delete, reschedule or extend a job claimed by someone else.
 * 5. De-duplication by key: while a keyed job exists, adding the key again coalesces into it. If
 *    the job is being worked on at that moment it is marked dirty and runs once more afterwards,
 *    so a wake-up that arrives during processing is never lost.
 * 6. Failures: a handler error reschedules the job with exponential backoff; after `max_attempts`
 *    deliveries the row is kept with `failed_at` set (visible to operators) and no longer claimed,
 *    until the same key is added again.
 * Handlers must therefore be idempotent: they may run again after a crash, never concurrently.
 */
import type { Db, Queryable } from '../db/db.js';

export interface JobSpec {
  kind: string;
  payload?: Record<string, unknown>;
  /** De-duplication key (see guarantee 5). */
  key?: string;
  /** Earliest time to run; default now. */
  runAt?: Date;
  maxAttempts?: number;
}

export interface Job {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  key: string | null;
  /** Deliveries so far including this one; > 1 means a retry or a re-delivery after a lost lease. */
  attempts: number;
  maxAttempts: number;
  generation: number;
  lockedBy: string;
}

/** Collects jobs added in one transaction so the local wake-up fires only after commit. */
export interface Outbox {
  add(job: JobSpec): Promise<void>;
  /** Adds several jobs in one statement. */
  addMany(jobs: readonly JobSpec[]): Promise<void>;
  /** Runs `fn` after the transaction committed (never when it rolls back). */
  afterCommit(fn: () => void): void;
}

type WakeListener = (kind: string, runAt: number) => void;

// Inserts a batch; with a worker id ($6) fresh rows are inserted already claimed by that worker
// (the adding process runs them itself, saving a claim round trip). Rows that coalesce into an
// existing job are never claimed this way (`xmax = 0` only for a fresh insert).
const ADD_SQL = `WITH j AS (
  INSERT INTO baton_jobs (kind, payload, job_key, run_at, max_attempts, locked_by, locked_until, attempts, generation)
  SELECT k, p::jsonb, key, COALESCE(r, now()), m, $6::text,
    CASE WHEN $6::text IS NULL THEN NULL ELSE now() + make_interval(secs => $7::double precision) END,
    CASE WHEN $6::text IS NULL THEN 0 ELSE 1 END, CASE WHEN $6::text IS NULL THEN 0 ELSE 1 END
  FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[]) AS x(k, p, key, r, m)
  ON CONFLICT (job_key) DO UPDATE SET
    run_at = LEAST(baton_jobs.run_at, EXCLUDED.run_at),
    payload = EXCLUDED.payload,
    dirty = baton_jobs.locked_until IS NOT NULL,
    attempts = CASE WHEN baton_jobs.failed_at IS NULL THEN baton_jobs.attempts ELSE 0 END,
    failed_at = NULL
  RETURNING id, kind, payload, job_key, attempts, max_attempts, generation,
    (xmax = '0'::xid AND locked_by IS NOT NULL) AS claimed
) SELECT j.*, CASE WHEN NOT j.claimed THEN pg_notify('baton_jobs', j.kind) END AS n FROM j`;

/** The claim statement (exported for the plan check in tests). */
export const CLAIM_SQL = `UPDATE baton_jobs j
  SET locked_by = $1, locked_until = now() + make_interval(secs => $2::double precision),
      attempts = j.attempts + 1, generation = j.generation + 1, dirty = false
  FROM (
    SELECT id FROM baton_jobs
    WHERE kind = ANY($3::text[]) AND failed_at IS NULL AND run_at <= now()
      AND (locked_until IS NULL OR locked_until < now())
    ORDER BY run_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ) c
  WHERE j.id = c.id
  RETURNING j.id, j.kind, j.payload, j.job_key, j.attempts, j.max_attempts, j.generation`;

// Finishing is two statements on purpose: in one statement both parts would judge `dirty` from
// the statement's snapshot, so a re-add committing in between would make the DELETE skip the row
// (re-checked after the lock wait) while the UPDATE still saw it clean — and the job would sit
// locked until its lease ran out. The second statement takes a fresh snapshot.
const COMPLETE_SQL = `DELETE FROM baton_jobs WHERE id = $1 AND generation = $2 AND NOT dirty RETURNING id`;

// Finishing many jobs at once: rows another transaction holds locked (re-adding the key, which
// will mark them dirty) are skipped rather than waited for, so this multi-row statement never
// waits on a lock while holding others (no deadlock with a transaction adding several keys); the
// skipped ones, like dirty ones, go through the one-row statements above.
const COMPLETE_MANY_SQL = `WITH c AS (
    SELECT j.id FROM baton_jobs j JOIN unnest($1::bigint[], $2::bigint[]) AS x(id, g) ON j.id = x.id AND j.generation = x.g
    WHERE NOT j.dirty FOR UPDATE OF j SKIP LOCKED
  ) DELETE FROM baton_jobs d USING c WHERE d.id = c.id RETURNING d.id`;

// A dirty job (re-added while being worked on) is released for one more run instead of deleted.
const RELEASE_DIRTY_SQL = `UPDATE baton_jobs SET locked_by = NULL, locked_until = NULL, attempts = 0, run_at = now(), dirty = false
  WHERE id = $1 AND generation = $2 AND dirty RETURNING kind`;

const FAIL_SQL = `UPDATE baton_jobs SET locked_by = NULL, locked_until = NULL, last_error = $3,
    run_at = now() + make_interval(secs => LEAST(power(2, attempts), $4::double precision)),
    failed_at = CASE WHEN attempts >= max_attempts THEN now() END
  WHERE id = $1 AND generation = $2 RETURNING failed_at`;

const RENEW_SQL = `UPDATE baton_jobs SET locked_until = now() + make_interval(secs => $3::double precision)
  WHERE id = $1 AND generation = $2 RETURNING id`;

interface JobRow {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  job_key: string | null;
  attempts: number;
  max_attempts: number;
  generation: number;
  claimed?: boolean;
}

function toJob(r: JobRow, workerId: string): Job {
  return {
    id: Number(r.id),
    kind: r.kind,
    payload: r.payload ?? {},
    key: r.job_key,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    generation: Number(r.generation),
    lockedBy: workerId,
  };
}

/** An in-process worker that takes jobs this process adds directly, already claimed. */
export interface LocalRunner {
  readonly workerId: string;
  readonly leaseMs: number;
  handles(kind: string): boolean;
  hasCapacity(): boolean;
  adopt(job: Job): void;
}

export interface QueueOptions {
  /** Cap on the retry backoff after a handler error, in seconds (default 300). */
  maxBackoffSeconds?: number;
}

export class Queue {
  private readonly listeners = new Set<WakeListener>();
  /** Finished jobs waiting for the completion statement in flight (group commit). */
  private finished: { job: Job; done: (ok: boolean) => void; failed: (e: unknown) => void }[] = [];
  private completing = false;
  private readonly maxBackoffSeconds: number;
  private runner: LocalRunner | undefined;

  constructor(
    readonly db: Db,
    opts: QueueOptions = {},
  ) {
    this.maxBackoffSeconds = opts.maxBackoffSeconds ?? 300;
  }

  /** Adds a job inside the caller's transaction. Call `wake` after commit (or use `tx`). */
  async add(q: Queryable, job: JobSpec): Promise<void> {
    await this.insert(q, [job], undefined);
  }

  /** Lets an in-process worker run jobs added through `tx` without claiming them. */
  attachRunner(runner: LocalRunner | undefined): void {
    this.runner = runner;
  }

  private async insert(q: Queryable, jobs: readonly JobSpec[], claimFor: LocalRunner | undefined): Promise<Job[]> {
    if (jobs.length === 0) return [];
    const seen = new Set<string>();
    const batch: JobSpec[] = [];
    for (const job of jobs) {
      if (!job.kind) throw new Error('a job needs a kind');
      // One statement cannot upsert the same key twice: later duplicates coalesce in memory.
      if (job.key !== undefined) {
        if (seen.has(job.key)) continue;
        seen.add(job.key);
      }
      batch.push(job);
    }
    const res = await q.query<JobRow>(ADD_SQL, [
      batch.map((j) => j.kind),
      batch.map((j) => JSON.stringify(j.payload ?? {})),
      batch.map((j) => j.key ?? null),
      batch.map((j) => (j.runAt ? j.runAt.toISOString() : null)),
      batch.map((j) => j.maxAttempts ?? 25),
      claimFor?.workerId ?? null,
      (claimFor?.leaseMs ?? 0) / 1000,
    ]);
    return claimFor ? res.rows.filter((r) => r.claimed).map((r) => toJob(r, claimFor.workerId)) : [];
  }

  /**
   * Runs `fn` in one transaction with an outbox; after the commit, in-process workers are woken
   * for every job added (PostgreSQL also delivers the NOTIFY to other processes at commit).
   */
  async tx<T>(fn: (tx: Queryable, outbox: Outbox) => Promise<T>): Promise<T> {
    const added: { kind: string; runAt: number }[] = [];
    const claimed: Job[] = [];
    const after: (() => void)[] = [];
    const out = await this.db.tx(async (tx) => {
      added.length = 0;
      claimed.length = 0;
      after.length = 0;
      const addMany = async (jobs: readonly JobSpec[]): Promise<void> => {
        const runner = this.runner;
        const local = runner ? jobs.filter((j) => !j.runAt && runner.handles(j.kind)) : [];
        const direct = local.length > 0 && runner!.hasCapacity() ? local : [];
        const rest = jobs.filter((j) => !direct.includes(j));
        if (direct.length > 0) {
          const got = await this.insert(tx, direct, runner);
          claimed.push(...got);
          // Jobs that coalesced into an existing row still need a normal wake-up.
          if (got.length < direct.length) for (const j of direct) added.push({ kind: j.kind, runAt: 0 });
        }
        if (rest.length > 0) {
          await this.insert(tx, rest, undefined);
          for (const j of rest) added.push({ kind: j.kind, runAt: j.runAt?.getTime() ?? 0 });
        }
      };
      const outbox: Outbox = {
        add: (job) => addMany([job]),
        addMany,
        afterCommit: (f) => void after.push(f),
      };
      return fn(tx, outbox);
    });
    for (const f of after) f();
    for (const job of claimed) this.runner?.adopt(job);
    for (const a of added) this.wake(a.kind, a.runAt);
    return out;
  }

  /** Adds one job in its own transaction. */
  async enqueue(job: JobSpec): Promise<void> {
    await this.tx((_tx, outbox) => outbox.add(job));
  }

  /** Tells in-process workers that a job of `kind` is due at `runAt` (epoch ms; 0 = now). */
  wake(kind: string, runAt = 0): void {
    for (const l of this.listeners) l(kind, runAt);
  }

  onWake(listener: WakeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Claims up to `limit` due jobs of the given kinds for `workerId`, each under a fresh lease. */
  async claim(workerId: string, kinds: readonly string[], limit: number, leaseMs: number): Promise<Job[]> {
    const res = await this.db.query<JobRow>(CLAIM_SQL, [workerId, leaseMs / 1000, kinds, limit]);
    return res.rows.map((r) => toJob(r, workerId));
  }

  /**
   * Deletes a finished job; false when the lease was lost (someone else owns the job now). Jobs
   * finishing while a deletion is in flight are deleted together in the next statement, so busy
   * workers spend one round trip per batch rather than one per job.
   */
  complete(job: Job): Promise<boolean> {
    return new Promise((done, failed) => {
      this.finished.push({ job, done, failed });
      if (!this.completing) void this.completeFinished();
    });
  }

  private async completeFinished(): Promise<void> {
    this.completing = true;
    try {
      while (this.finished.length > 0) {
        const batch = this.finished.splice(0, 1000);
        try {
          const gone = new Set<number>();
          if (batch.length > 1) {
            const res = await this.db.query<{ id: number }>(COMPLETE_MANY_SQL, [batch.map((b) => b.job.id), batch.map((b) => b.job.generation)]);
            for (const r of res.rows) gone.add(Number(r.id));
          }
          await Promise.all(
            batch.map(async (b) => {
              if (gone.has(b.job.id)) b.done(true);
              else b.done(await this.completeOne(b.job));
            }),
          );
        } catch (e) {
          for (const b of batch) b.failed(e);
        }
      }
    } finally {
      this.completing = false;
    }
  }

  private async completeOne(job: Job): Promise<boolean> {
    const deleted = await this.db.query(COMPLETE_SQL, [job.id, job.generation]);
    if (deleted.rows.length > 0) return true;
    const released = await this.db.query<{ kind: string }>(RELEASE_DIRTY_SQL, [job.id, job.generation]);
    const kind = released.rows[0]?.kind;
    if (kind === undefined) return false;
    this.wake(kind);
    return true;
  }

  /** Records a handler error and reschedules with backoff (or parks the job after max attempts). */
  async fail(job: Job, error: unknown): Promise<'retry' | 'failed' | 'lost'> {
    const message = error instanceof Error ? error.message : String(error);
    const res = await this.db.query<{ failed_at: unknown }>(FAIL_SQL, [job.id, job.generation, message.slice(0, 4000), this.maxBackoffSeconds]);
    if (res.rows.length === 0) return 'lost';
    return res.rows[0]!.failed_at ? 'failed' : 'retry';
  }

  /** Extends the lease; false when it was lost. */
  async renew(job: Job, leaseMs: number): Promise<boolean> {
    const res = await this.db.query(RENEW_SQL, [job.id, job.generation, leaseMs / 1000]);
    return res.rows.length > 0;
  }
}
