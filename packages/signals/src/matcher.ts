import type { Db, Queryable } from '@baton/engine-core';
import { stableJson } from './canonical.js';
import { wakeWaiters } from './dependencies.js';
import { parseJson, stringifyJson } from './json.js';
import type { SignalParams } from './model.js';
import { specMatches } from './operators.js';
import type { ConsumedSignal, StepGateListener, TriggerExpressions, WorkflowStarter } from './ports.js';
import type { FiringOutcome, SignalStats } from './stats.js';
import { SubscriptionIndex, subKey, type Subscription } from './subscriptions.js';
import { decideFirings, recordFirings, type Firing } from './firings.js';
import { firingRequestId, nextClaimLimit, takeSignals, type ClaimedJob } from './match-queue.js';

export { firingRequestId, matchBacklog, nextClaimLimit, takeSignals, type MatchBacklog } from './match-queue.js';

export interface MatcherDeps {
  starter: WorkflowStarter;
  expressions: TriggerExpressions;
  gates?: StepGateListener;
  onError: (err: unknown, what: string) => void;
  /** Where committed firings and failed starts are counted. */
  stats?: SignalStats;
  /** First delay before complete joins whose start failed are tried again (default 1 s); doubles per failed sweep. */
  retryBaseMs?: number;
  /** Longest delay between those retries, and between safety-net sweeps (default 60 s). */
  retryMaxMs?: number;
}

/** What a batch did, applied to the stats and the retry schedule only once its transaction committed. */
interface BatchEffects {
  outcomes: FiringOutcome[];
  failed: number;
}

interface JobRow {
  waiting: boolean;
  only_workflow_id: string | null;
  only_trigger_id: string | null;
  name: string;
  seq_id: number | bigint;
  /** The instance's partition key, as text (exact to the microsecond). */
  expire_at: string;
  params: string;
  create_ms: number;
}

interface Candidate {
  sub: Subscription;
  name: string;
  seq: string;
  expireAt: string;
  joinKey: string;
  timeMs: number;
}

/**
 * Processes match jobs: each batch is one transaction that claims jobs (SKIP LOCKED, so several
 * processes share the queue), turns matches into join candidates, wakes waiting steps, and fires
 * every touched trigger under its row lock. A crash rolls the whole batch back and the jobs are
 * claimed again; consumption rows and deterministic start request ids make the retry harmless.
 */
export class Matcher {
  private index: SubscriptionIndex | undefined;
  /** Until then, every firing and gate runs under its own savepoint (see runOnce). */
  private carefulUntil = 0;
  /** When the next sweep for complete but unfired joins is due (0: at once, e.g. after start-up). */
  private retryAt = 0;
  private retryDelayMs = 0;
  private sweeping = false;
  /**
   * Queue rows claimed per batch. Every claimed row stays locked until the batch commits, taken
   * or not, so claiming far more than the batch takes would starve the other matchers: the limit
   * follows the instances per row of the last claim (a Kafka range covers thousands, a REST
   * publish of one signal one).
   */
  private claimLimit = 16;
  /**
   * How old (by the database's clock) the newest instance the last committed batch matched was
   * when that batch began; undefined when it matched none. The matcher loops defer to ingestion
   * by it (see IngestPressure).
   */
  newestMatchedAgeMs: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly deps: MatcherDeps,
    private readonly batchSize = 500,
  ) {}

  /**
   * Runs one batch; returns how many jobs it processed (0 when the queue was empty). The fast path
   * takes no savepoints; when a batch fails, it is retried (and later batches run for a while)
   * with a savepoint around each firing and each gate, so one failing start is reported and
   * left for later instead of blocking every other signal.
   */
  async runOnce(): Promise<number> {
    if (Date.now() < this.carefulUntil) return this.runBatch(true);
    try {
      return await this.runBatch(false);
    } catch {
      this.carefulUntil = Date.now() + 30_000;
      return this.runBatch(true);
    }
  }

  private async runBatch(careful: boolean): Promise<number> {
    const effects: BatchEffects = { outcomes: [], failed: 0 };
    let newestAge: number | undefined;
    const n = await this.db.tx(async (tx) => {
      // Claims jobs (SKIP LOCKED: processes share the queue) and takes the subscription
      // generation FOR SHARE, so a subscription change waits for this batch (see
      // syncSubscriptionsInTx). Naming signal_instances takes its ACCESS SHARE lock now, with the
      // claim: a retention pass (which moves still-queued rows to a later partition under an
      // ACCESS EXCLUSIVE lock, and clears the jobs' expire_at) then either waits for this batch
      // or has committed before the claim reads the jobs, so no job's expire_at is stale.
      const claimed = await tx.query<ClaimedJob & { now_ms: number }>(
        `WITH pin AS (
           SELECT 1 FROM ONLY signal_instances LIMIT 0
         ), g AS (
           SELECT generation FROM signal_subscription_generation WHERE id = 1 FOR SHARE
         )
         SELECT (SELECT generation FROM g) AS generation, (extract(epoch FROM now()) * 1000)::float8 AS now_ms, q.id, q.name, q.seq_id, coalesce(q.seq_to, q.seq_id) AS seq_to,
                q.only_workflow_id, q.only_trigger_id, q.expire_at::text AS expire_at
         FROM (SELECT * FROM signal_match_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) q ORDER BY q.id`,
        [this.claimLimit],
      );
      if (claimed.rows.length === 0) return 0;
      this.claimLimit = nextClaimLimit(claimed.rows, this.batchSize, this.claimLimit);
      const take = takeSignals(claimed.rows, this.batchSize);
      // Finishes the taken jobs (the last one may move on instead), reads their instances and
      // tells whether any step waits for one of the names, in one round trip.
      const jobs = await tx.query<JobRow>(
        `WITH d AS (
           DELETE FROM signal_match_queue WHERE id = ANY ($1::bigint[])
         ), u AS (
           UPDATE signal_match_queue SET seq_id = $2 WHERE id = $3
         ), r AS (
           SELECT * FROM jsonb_to_recordset($4::jsonb) AS r(n text, a bigint, b bigint, e timestamptz, w text, t text)
         ), w AS (
           SELECT EXISTS (SELECT 1 FROM signal_step_waiters WHERE status = 'WAITING' AND signal_names && (SELECT array_agg(DISTINCT n) FROM r)) AS waiting
         )
         SELECT (SELECT waiting FROM w) AS waiting, r.w AS only_workflow_id, r.t AS only_trigger_id, i.name, i.seq_id,
                i.expire_at::text AS expire_at, i.params::text AS params, (extract(epoch FROM i.create_time) * 1000)::float8 AS create_ms
         FROM r CROSS JOIN LATERAL (
           -- Per range, so each is a primary-key range scan: as a join (or a subquery the planner
           -- may flatten, which OFFSET 0 prevents) the table was scanned whole and hashed. With
           -- the range's expire_at, run-time pruning reads only its partition; without it (see
           -- migration 0370), every partition. The gate on r.e runs one branch per range.
           SELECT name, seq_id, expire_at, params, create_time FROM signal_instances
            WHERE r.e IS NOT NULL AND expire_at = r.e AND name = r.n AND seq_id BETWEEN r.a AND r.b
           UNION ALL
           SELECT name, seq_id, expire_at, params, create_time FROM signal_instances
            WHERE r.e IS NULL AND name = r.n AND seq_id BETWEEN r.a AND r.b
           OFFSET 0
         ) i
         ORDER BY i.name, i.seq_id`,
        [take.done, take.rest?.from ?? null, take.rest?.id ?? null, stringifyJson(take.ranges)],
      );
      if (jobs.rows.length === 0) return take.signals;
      let newest = -Infinity;
      for (const job of jobs.rows) if (job.create_ms > newest) newest = job.create_ms;
      newestAge = claimed.rows[0]!.now_ms - newest;
      const generation = Number(claimed.rows[0]!.generation);
      if (!this.index || this.index.generation !== generation) this.index = await SubscriptionIndex.load(tx);
      const index = this.index;

      const candidates: Candidate[] = [];
      const names = new Set<string>();
      for (const job of jobs.rows) {
        names.add(job.name);
        const entries = index.byName.get(job.name);
        if (!entries) continue;
        const params = parseJson(job.params) as SignalParams;
        for (const { sub, signal } of entries) {
          if (job.only_trigger_id !== null) {
            if (sub.workflowId !== job.only_workflow_id || sub.triggerId !== job.only_trigger_id) continue;
          } else if (job.create_ms < sub.activeSince.getTime()) continue;
          const sig = sub.signals[signal]!;
          if (!specMatches(sig.spec, params)) continue;
          const joinValues = sig.joinKeys.map((k) => params[k]);
          if (joinValues.some((v) => v === undefined)) continue;
          candidates.push({ sub, name: job.name, seq: job.seq_id.toString(), expireAt: job.expire_at, joinKey: stableJson(joinValues), timeMs: job.create_ms });
        }
      }

      if (jobs.rows[0]!.waiting) await wakeWaiters(tx, [...names], this.deps.gates, this.deps.onError, careful);
      if (candidates.length === 0) return take.signals;

      await tx.query(
        `INSERT INTO signal_trigger_candidates (workflow_id, trigger_id, signal_name, seq_id, join_key, signal_time, signal_expire_at)
         SELECT u.w, u.t, u.n, u.s, u.j, to_timestamp(u.ms / 1000.0), u.e
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::float8[], $7::timestamptz[]) AS u(w, t, n, s, j, ms, e)
         WHERE NOT EXISTS (SELECT 1 FROM signal_trigger_consumptions c
                           WHERE c.workflow_id = u.w AND c.trigger_id = u.t AND c.signal_name = u.n AND c.seq_id = u.s)
         ON CONFLICT DO NOTHING`,
        [
          candidates.map((c) => c.sub.workflowId),
          candidates.map((c) => c.sub.triggerId),
          candidates.map((c) => c.name),
          candidates.map((c) => c.seq),
          candidates.map((c) => c.joinKey),
          candidates.map((c) => c.timeMs),
          candidates.map((c) => c.expireAt),
        ],
      );

      const touched = new Map<string, { sub: Subscription; joinKeys: Set<string> }>();
      for (const c of candidates) {
        const key = subKey(c.sub.workflowId, c.sub.triggerId);
        const t = touched.get(key) ?? { sub: c.sub, joinKeys: new Set<string>() };
        t.joinKeys.add(c.joinKey);
        touched.set(key, t);
      }
      await this.fireTouched(tx, [...touched.values()], careful, effects);
      return take.signals;
    });
    this.newestMatchedAgeMs = newestAge;
    this.applied(effects);
    return n;
  }

  private applied(effects: BatchEffects): void {
    this.deps.stats?.recordFirings(effects.outcomes);
    if (effects.failed === 0) return;
    if (this.deps.stats) this.deps.stats.startFailures += effects.failed;
    const base = this.deps.retryBaseMs ?? 1000;
    this.retryDelayMs = Math.min(this.retryDelayMs === 0 ? base : this.retryDelayMs * 2, this.deps.retryMaxMs ?? 60_000);
    this.retryAt = Math.min(this.retryAt, Date.now() + this.retryDelayMs);
  }

  /**
   * Fires joins that are complete but were never fired because their workflow start failed (or
   * the process that failed it died). Without this sweep such a join would wait for the trigger's
   * next matching signal, which may never come. It runs when due: soon after a failure, backing
   * off while starts keep failing, and otherwise every `retryMaxMs` as a safety net; `force` runs
   * it at once. Returns how many firings were recorded.
   */
  async retryStalled(force = false): Promise<number> {
    if (this.sweeping || (!force && Date.now() < this.retryAt)) return 0;
    this.sweeping = true;
    const limit = this.batchSize;
    const effects: BatchEffects = { outcomes: [], failed: 0 };
    let found = 0;
    try {
      await this.db.tx(async (tx) => {
        const gen = await tx.query<{ generation: number | bigint }>('SELECT generation FROM signal_subscription_generation WHERE id = 1 FOR SHARE');
        const generation = Number(gen.rows[0]?.generation ?? 0);
        if (!this.index || this.index.generation !== generation) this.index = await SubscriptionIndex.load(tx);
        const subs = [...this.index.byKey.values()];
        if (subs.length === 0) return;
        // A join is complete when every signal name of its trigger has a waiting candidate.
        const complete = await tx.query<{ workflow_id: string; trigger_id: string; join_key: string }>(
          `SELECT c.workflow_id, c.trigger_id, c.join_key FROM signal_trigger_candidates c
           JOIN unnest($1::text[], $2::text[], $3::int[]) AS k(w, t, n) ON c.workflow_id = k.w AND c.trigger_id = k.t
           GROUP BY c.workflow_id, c.trigger_id, c.join_key, k.n
           HAVING count(DISTINCT c.signal_name) >= k.n
           LIMIT $4`,
          [subs.map((s) => s.workflowId), subs.map((s) => s.triggerId), subs.map((s) => new Set(s.signals.map((g) => g.name)).size), limit],
        );
        found = complete.rows.length;
        const touched = new Map<string, { sub: Subscription; joinKeys: Set<string> }>();
        for (const r of complete.rows) {
          const key = subKey(r.workflow_id, r.trigger_id);
          const sub = this.index.byKey.get(key);
          if (!sub) continue;
          const t = touched.get(key) ?? { sub, joinKeys: new Set<string>() };
          t.joinKeys.add(r.join_key);
          touched.set(key, t);
        }
        if (touched.size > 0) await this.fireTouched(tx, [...touched.values()], true, effects);
      });
    } catch (err) {
      // The database failed: try again after the base delay rather than on every idle loop.
      this.retryAt = Date.now() + (this.deps.retryBaseMs ?? 1000);
      throw err;
    } finally {
      this.sweeping = false;
    }
    if (effects.failed === 0) this.retryDelayMs = 0;
    // A full page means more complete joins may wait: sweep again at once.
    this.retryAt = found >= limit ? 0 : Date.now() + (this.deps.retryMaxMs ?? 60_000);
    this.applied(effects);
    return effects.outcomes.length;
  }

  /**
   * Fires every touched trigger as often as its candidates allow. All trigger rows are locked
   * first in one statement, in one fixed order, so concurrent matchers never deadlock and never
   * consume one instance twice; the rest is a handful of set-based statements per batch.
   */
  private async fireTouched(tx: Queryable, touched: { sub: Subscription; joinKeys: Set<string> }[], careful: boolean, effects: BatchEffects): Promise<void> {
    const locked = await tx.query<{ workflow_id: string; trigger_id: string }>(
      `SELECT s.workflow_id, s.trigger_id FROM signal_subscriptions s
       JOIN unnest($1::text[], $2::text[]) AS k(w, t) ON s.workflow_id = k.w AND s.trigger_id = k.t
       WHERE s.active ORDER BY s.workflow_id COLLATE "C", s.trigger_id COLLATE "C" FOR UPDATE OF s`,
      [touched.map((t) => t.sub.workflowId), touched.map((t) => t.sub.triggerId)],
    );
    const active = new Set(locked.rows.map((r) => subKey(r.workflow_id, r.trigger_id)));
    const live = touched.filter((t) => active.has(subKey(t.sub.workflowId, t.sub.triggerId)));
    if (live.length === 0) return;

    const windowed = live.filter((t) => t.sub.joinWindowSeconds !== undefined);
    if (windowed.length > 0) {
      await tx.query(
        `DELETE FROM signal_trigger_candidates c USING unnest($1::text[], $2::text[], $3::float8[]) AS k(w, t, secs)
         WHERE c.workflow_id = k.w AND c.trigger_id = k.t AND c.signal_time < now() - make_interval(secs => k.secs)`,
        [windowed.map((t) => t.sub.workflowId), windowed.map((t) => t.sub.triggerId), windowed.map((t) => t.sub.joinWindowSeconds!)],
      );
    }
    const keys = live.flatMap((t) => [...t.joinKeys].map((j) => ({ sub: t.sub, joinKey: j })));
    const rows = await tx.query<{ workflow_id: string; trigger_id: string; signal_name: string; seq_id: number | bigint; join_key: string; instance_id: string; params: string }>(
      `SELECT c.workflow_id, c.trigger_id, c.signal_name, c.seq_id, c.join_key, i.instance_id, i.params::text AS params
       FROM signal_trigger_candidates c
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(w, t, j) ON c.workflow_id = k.w AND c.trigger_id = k.t AND c.join_key = k.j
       -- From the instance's partition when the candidate knows it (see the jobs query above).
       CROSS JOIN LATERAL (
         SELECT instance_id, params FROM signal_instances
          WHERE c.signal_expire_at IS NOT NULL AND expire_at = c.signal_expire_at AND name = c.signal_name AND seq_id = c.seq_id
         UNION ALL
         SELECT instance_id, params FROM signal_instances
          WHERE c.signal_expire_at IS NULL AND name = c.signal_name AND seq_id = c.seq_id
       ) i
       ORDER BY c.seq_id`,
      [keys.map((k) => k.sub.workflowId), keys.map((k) => k.sub.triggerId), keys.map((k) => k.joinKey)],
    );
    type Row = (typeof rows.rows)[number];
    const grouped = new Map<string, Map<string, Map<string, Row[]>>>();
    for (const r of rows.rows) {
      const sk = subKey(r.workflow_id, r.trigger_id);
      const byJoin = grouped.get(sk) ?? new Map<string, Map<string, Row[]>>();
      const perName = byJoin.get(r.join_key) ?? new Map<string, Row[]>();
      const list = perName.get(r.signal_name) ?? [];
      list.push(r);
      perName.set(r.signal_name, list);
      byJoin.set(r.join_key, perName);
      grouped.set(sk, byJoin);
    }
    const firings: Firing[] = [];
    for (const t of live) {
      const byJoin = grouped.get(subKey(t.sub.workflowId, t.sub.triggerId));
      if (!byJoin) continue;
      for (const [joinKey, perName] of byJoin) {
        const lists = t.sub.signals.map((sig) => perName.get(sig.name) ?? []);
        const n = Math.min(...lists.map((l) => l.length));
        // Earliest instances pair first: the i-th firing takes the i-th candidate of every signal.
        for (let i = 0; i < n; i++) {
          const consumed: ConsumedSignal[] = lists.map((l) => {
            const r = l[i]!;
            return { name: r.signal_name, seq_id: r.seq_id, instance_id: r.instance_id, params: parseJson(r.params) as SignalParams };
          });
          firings.push({ sub: t.sub, joinKey, consumed, requestId: firingRequestId(t.sub.workflowId, t.sub.triggerId, consumed), outcome: 'STARTED' });
        }
      }
    }
    if (firings.length === 0) return;

    if (careful) {
      for (const f of firings) {
        await tx.query('SAVEPOINT signal_firing');
        try {
          await decideFirings(tx, this.deps.expressions, [f]);
          const recorded = await recordFirings(tx, this.deps.starter, [f]);
          await tx.query('RELEASE SAVEPOINT signal_firing');
          effects.outcomes.push(...recorded);
        } catch (err) {
          // The candidates stay: the firing is retried when the trigger is next touched, or by
          // the sweep for complete joins (retryStalled) if no further signal comes.
          await tx.query('ROLLBACK TO SAVEPOINT signal_firing');
          effects.failed++;
          this.deps.onError(err, `firing trigger ${f.sub.triggerId} of workflow ${f.sub.workflowId}`);
        }
      }
    } else {
      await decideFirings(tx, this.deps.expressions, firings);
      effects.outcomes.push(...(await recordFirings(tx, this.deps.starter, firings)));
    }
  }
}
