import type { Db, Queryable } from '@baton/engine-core';
import { stableJson } from './canonical.js';
import { wakeWaiters } from './dependencies.js';
import { stringifyJson } from './json.js';
import { specMatches } from './operators.js';
import type { ConsumedSignal, StepGateListener, TriggerExpressions, WorkflowStarter } from './ports.js';
import { instanceColumns, rowToInstance, type InstanceRow } from './queries.js';
import { SubscriptionIndex, subKey, type Subscription } from './subscriptions.js';

export interface MatcherDeps {
  starter: WorkflowStarter;
  expressions: TriggerExpressions;
  gates?: StepGateListener;
  onError: (err: unknown, what: string) => void;
}

interface JobRow extends InstanceRow {
  only_workflow_id: string | null;
  only_trigger_id: string | null;
}

interface Candidate {
  sub: Subscription;
  name: string;
  seq: string;
  joinKey: string;
  timeMs: number;
}

/** The start request id of a firing: the trigger and the consumed instances, nothing random. */
export function firingRequestId(workflowId: string, triggerId: string, consumed: readonly ConsumedSignal[]): string {
  return `signal-trigger:${workflowId}:${triggerId}:${consumed.map((c) => `${c.name}:${c.instance_id}`).join(',')}`;
}

/**
 * Processes match jobs: each batch is one transaction that claims jobs (SKIP LOCKED, so several
 * processes share the queue), turns matches into join candidates, wakes waiting steps, and fires
 * every touched trigger under its row lock. A crash rolls the whole batch back and the jobs are
 * claimed again; consumption rows and deterministic start request ids make the retry harmless.
 */
export class Matcher {
  private index: SubscriptionIndex | undefined;

  constructor(
    private readonly db: Db,
    private readonly deps: MatcherDeps,
    private readonly batchSize = 500,
  ) {}

  /** Runs one batch; returns how many jobs it processed (0 when the queue was empty). */
  async runOnce(): Promise<number> {
    return this.db.tx(async (tx) => {
      const gen = await tx.query<{ generation: number | bigint }>('SELECT generation FROM signal_subscription_generation WHERE id = 1 FOR SHARE');
      const generation = Number(gen.rows[0]?.generation ?? 0);
      if (!this.index || this.index.generation !== generation) this.index = await SubscriptionIndex.load(tx);
      const index = this.index;

      const jobs = await tx.query<JobRow>(
        `WITH q AS (
           DELETE FROM signal_match_queue WHERE id IN (SELECT id FROM signal_match_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING name, seq_id, only_workflow_id, only_trigger_id
         )
         SELECT q.only_workflow_id, q.only_trigger_id, ${instanceColumns('i')}
         FROM q JOIN signal_instances i ON i.name = q.name AND i.seq_id = q.seq_id`,
        [this.batchSize],
      );
      if (jobs.rows.length === 0) return 0;

      const candidates: Candidate[] = [];
      const names = new Set<string>();
      for (const job of jobs.rows) {
        names.add(job.name);
        const entries = index.byName.get(job.name);
        if (!entries) continue;
        const inst = rowToInstance(job);
        for (const { sub, signal } of entries) {
          if (job.only_trigger_id !== null) {
            if (sub.workflowId !== job.only_workflow_id || sub.triggerId !== job.only_trigger_id) continue;
          } else if (inst.create_time < sub.activeSince.getTime()) continue;
          const sig = sub.signals[signal]!;
          if (!specMatches(sig.spec, inst.params)) continue;
          const joinValues = sig.joinKeys.map((k) => inst.params[k]);
          if (joinValues.some((v) => v === undefined)) continue;
          candidates.push({ sub, name: job.name, seq: job.seq_id.toString(), joinKey: stableJson(joinValues), timeMs: inst.create_time });
        }
      }

      await wakeWaiters(tx, [...names], this.deps.gates, this.deps.onError);
      if (candidates.length === 0) return jobs.rows.length;

      await tx.query(
        `INSERT INTO signal_trigger_candidates (workflow_id, trigger_id, signal_name, seq_id, join_key, signal_time)
         SELECT u.w, u.t, u.n, u.s, u.j, to_timestamp(u.ms / 1000.0)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::float8[]) AS u(w, t, n, s, j, ms)
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
        ],
      );

      const touched = new Map<string, { sub: Subscription; joinKeys: Set<string> }>();
      for (const c of candidates) {
        const key = subKey(c.sub.workflowId, c.sub.triggerId);
        const t = touched.get(key) ?? { sub: c.sub, joinKeys: new Set<string>() };
        t.joinKeys.add(c.joinKey);
        touched.set(key, t);
      }
      // Lock order is the key order in every transaction, so two matchers never deadlock.
      for (const key of [...touched.keys()].sort()) {
        const t = touched.get(key)!;
        await this.fire(tx, t.sub, [...t.joinKeys]);
      }
      return jobs.rows.length;
    });
  }

  /** Fires a trigger as often as its candidates allow, for the given join values. */
  private async fire(tx: Queryable, sub: Subscription, joinKeys: string[]): Promise<void> {
    const lock = await tx.query('SELECT 1 FROM signal_subscriptions WHERE workflow_id = $1 AND trigger_id = $2 AND active FOR UPDATE', [sub.workflowId, sub.triggerId]);
    if (lock.rows.length === 0) return;
    if (sub.joinWindowSeconds !== undefined) {
      await tx.query(
        `DELETE FROM signal_trigger_candidates WHERE workflow_id = $1 AND trigger_id = $2 AND signal_time < now() - make_interval(secs => $3)`,
        [sub.workflowId, sub.triggerId, sub.joinWindowSeconds],
      );
    }
    const rows = await tx.query<{ signal_name: string; seq_id: number | bigint; join_key: string }>(
      `SELECT signal_name, seq_id, join_key FROM signal_trigger_candidates
       WHERE workflow_id = $1 AND trigger_id = $2 AND join_key = ANY ($3::text[]) ORDER BY seq_id`,
      [sub.workflowId, sub.triggerId, joinKeys],
    );
    const byJoin = new Map<string, Map<string, (number | bigint)[]>>();
    for (const r of rows.rows) {
      const perName = byJoin.get(r.join_key) ?? new Map<string, (number | bigint)[]>();
      const list = perName.get(r.signal_name) ?? [];
      list.push(r.seq_id);
      perName.set(r.signal_name, list);
      byJoin.set(r.join_key, perName);
    }
    const firings: { joinKey: string; seqs: (number | bigint)[] }[] = [];
    for (const [joinKey, perName] of byJoin) {
      const lists = sub.signals.map((s) => perName.get(s.name) ?? []);
      const n = Math.min(...lists.map((l) => l.length));
      // Earliest instances pair first: the i-th firing takes the i-th candidate of every signal.
      for (let i = 0; i < n; i++) firings.push({ joinKey, seqs: lists.map((l) => l[i]!) });
    }
    if (firings.length === 0) return;

    const wanted = firings.flatMap((f) => f.seqs.map((seq, i) => ({ name: sub.signals[i]!.name, seq })));
    const inst = await tx.query<InstanceRow>(
      `SELECT ${instanceColumns('i')} FROM signal_instances i JOIN unnest($1::text[], $2::bigint[]) AS k(n, s) ON i.name = k.n AND i.seq_id = k.s`,
      [wanted.map((w) => w.name), wanted.map((w) => w.seq.toString())],
    );
    const byRef = new Map(inst.rows.map((r) => [`${r.name}#${r.seq_id}`, rowToInstance(r)]));
    for (const f of firings) {
      const consumed: ConsumedSignal[] = f.seqs.map((seq, i) => {
        const s = byRef.get(`${sub.signals[i]!.name}#${seq}`)!;
        return { name: s.name, seq_id: s.seq_id, instance_id: s.instance_id, params: s.params };
      });
      await tx.query('SAVEPOINT signal_firing');
      try {
        await this.fireOnce(tx, sub, f.joinKey, consumed);
        await tx.query('RELEASE SAVEPOINT signal_firing');
      } catch (err) {
        // The candidates stay: the firing is retried when the trigger is next touched.
        await tx.query('ROLLBACK TO SAVEPOINT signal_firing');
        this.deps.onError(err, `firing trigger ${sub.triggerId} of workflow ${sub.workflowId}`);
      }
    }
  }

  private async fireOnce(tx: Queryable, sub: Subscription, joinKey: string, consumed: ConsumedSignal[]): Promise<void> {
    const requestId = firingRequestId(sub.workflowId, sub.triggerId, consumed);
    const ctx = { workflowId: sub.workflowId, triggerId: sub.triggerId, signals: consumed };
    let outcome = 'STARTED';
    if (sub.condition && !(await this.deps.expressions.condition(sub.condition, ctx))) outcome = 'CONDITION_FALSE';
    let dedupKey: string | undefined;
    if (outcome === 'STARTED' && sub.dedupExpr) {
      dedupKey = await this.deps.expressions.dedupKey(sub.dedupExpr, ctx);
      if (dedupKey !== undefined) {
        const dup = await tx.query(
          `SELECT 1 FROM signal_trigger_firings WHERE workflow_id = $1 AND trigger_id = $2 AND dedup_key = $3 AND outcome = 'STARTED' LIMIT 1`,
          [sub.workflowId, sub.triggerId, dedupKey],
        );
        if (dup.rows.length > 0) outcome = 'DEDUPED';
      }
    }
    const names = consumed.map((c) => c.name);
    const seqs = consumed.map((c) => c.seq_id.toString());
    // One statement records the firing, consumes its instances and removes them as candidates.
    const ins = await tx.query<{ id: number | bigint }>(
      `WITH f AS (
         INSERT INTO signal_trigger_firings (workflow_id, trigger_id, request_id, join_key, signals, outcome, dedup_key)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) ON CONFLICT (request_id) DO NOTHING RETURNING id
       ), c AS (
         INSERT INTO signal_trigger_consumptions (workflow_id, trigger_id, signal_name, seq_id, firing_id)
         SELECT $1, $2, u.n, u.s, f.id FROM f, unnest($8::text[], $9::bigint[]) AS u(n, s)
       ), d AS (
         DELETE FROM signal_trigger_candidates cand USING unnest($8::text[], $9::bigint[]) AS u(n, s)
         WHERE cand.workflow_id = $1 AND cand.trigger_id = $2 AND cand.signal_name = u.n AND cand.seq_id = u.s
       )
       SELECT id FROM f`,
      [sub.workflowId, sub.triggerId, requestId, joinKey, stringifyJson(consumed), outcome, dedupKey ?? null, names, seqs],
    );
    const firingId = ins.rows[0]?.id;
    if (firingId === undefined || outcome !== 'STARTED') return;
    const started = await this.deps.starter.startWorkflow(tx, {
      workflowId: sub.workflowId,
      version: sub.workflowVersion ?? 'active',
      params: sub.params,
      requestId,
      initiator: { type: 'SIGNAL', workflowId: sub.workflowId, triggerId: sub.triggerId, signals: consumed },
    });
    await tx.query(
      `WITH u AS (UPDATE signal_trigger_firings SET workflow_instance_id = $3 WHERE id = $4)
       INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id)
       SELECT 'TRIGGERED', n, s, $5, $3 FROM unnest($1::text[], $2::bigint[]) AS x(n, s)
       ON CONFLICT DO NOTHING`,
      [names, seqs, started.workflowInstanceId.toString(), firingId.toString(), sub.workflowId],
    );
  }
}
