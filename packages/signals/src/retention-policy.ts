import type { Db, Queryable } from '@baton/engine-core';
import { nameProblem } from './validate.js';

/** Retention in seconds; null keeps forever. */
export interface RetentionPolicy {
  /** For every name without its own entry. */
  defaultSeconds: number | null;
  /** Per signal name. */
  names: Record<string, number | null>;
}

export const DEFAULT_RETENTION_SECONDS = 30 * 86_400;

/**
 * Stores the policy publishers read (signal_retention, name '*' is the default). A signal's
 * expiry is fixed when it is published: a changed policy applies to signals published after it.
 */
export async function setRetentionPolicy(db: Db, policy: RetentionPolicy): Promise<void> {
  const rows = [{ name: '*', seconds: policy.defaultSeconds }];
  for (const [name, seconds] of Object.entries(policy.names)) {
    const problem = nameProblem(name);
    if (problem) throw new RangeError(`retention for signal name ${JSON.stringify(name)}: ${problem}`);
    rows.push({ name, seconds });
  }
  for (const r of rows) {
    if (r.seconds !== null && !(Number.isSafeInteger(r.seconds) && r.seconds > 0)) throw new RangeError(`retention of ${r.name} must be a positive whole number of seconds or null`);
  }
  await db.tx(async (tx) => {
    await tx.query('LOCK TABLE signal_retention IN EXCLUSIVE MODE');
    await tx.query('DELETE FROM signal_retention');
    await tx.query(`INSERT INTO signal_retention (name, seconds) SELECT n, s FROM jsonb_to_recordset($1::jsonb) AS x(n text, s bigint)`, [
      JSON.stringify(rows.map((r) => ({ n: r.name, s: r.seconds }))),
    ]);
  });
}

export async function getRetentionPolicy(q: Queryable): Promise<RetentionPolicy> {
  const res = await q.query<{ name: string; seconds: number | string | null }>('SELECT name, seconds FROM signal_retention ORDER BY name');
  const policy: RetentionPolicy = { defaultSeconds: DEFAULT_RETENTION_SECONDS, names: {} };
  for (const r of res.rows) {
    const s = r.seconds === null ? null : Number(r.seconds);
    if (r.name === '*') policy.defaultSeconds = s;
    else policy.names[r.name] = s;
  }
  return policy;
}

/** The longest finite retention in the policy (partitions must exist that far ahead). */
export function longestRetentionSeconds(policy: RetentionPolicy): number {
  const all = [policy.defaultSeconds, ...Object.values(policy.names)].filter((s): s is number => s !== null);
  return Math.max(0, ...all);
}
