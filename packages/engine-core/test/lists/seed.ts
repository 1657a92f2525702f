import type { Queryable } from '../../src/db/db.js';

export const SEED_STATUSES = ['SUCCEEDED', 'FAILED', 'STOPPED', 'IN_PROGRESS', 'TIMED_OUT'] as const;
export const SEED_INITIATORS = ['MANUAL', 'SIGNAL', 'TIME', 'SUBWORKFLOW'] as const;

/**
 * `count` instance rows (run 1 each) spread over `workflows` workflows `wf-0`, `wf-1`, ...:
 * row g (1-based, instance id g) is `SEED_STATUSES[g % 5]`, started by `SEED_INITIATORS[g % 4]`,
 * created g seconds before `base` (so a higher g is older). Loop iterations ('#' ids) are added
 * beside them, one per 10 rows, to show they stay out of lists. Rows as the engine writes them,
 * inserted in bulk: building 100,000 runs through the engine would take the benchmark's budget.
 */
export async function seedInstances(db: Queryable, count: number, opts: { workflows?: number; base?: Date; firstId?: number } = {}): Promise<void> {
  const workflows = opts.workflows ?? 10;
  const base = (opts.base ?? new Date()).toISOString();
  const first = opts.firstId ?? 1;
  await db.query(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, initiator, created_at, started_at, ended_at)
     SELECT 'wf-' || (g % $2), 1, g, 1, ($4::text[])[1 + g % 5], jsonb_build_object('type', ($5::text[])[1 + g % 4]),
            $3::timestamptz - g * interval '1 second', $3::timestamptz - g * interval '1 second', NULL
       FROM generate_series($6::bigint, $6::bigint + $1 - 1) g`,
    [count, workflows, base, SEED_STATUSES, SEED_INITIATORS, first],
  );
  await db.query(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, initiator, created_at)
     SELECT 'wf-' || (g % $2) || '#loop', 1, g, 1, 'SUCCEEDED', '{"type":"FOREACH"}'::jsonb, $3::timestamptz - g * interval '1 second'
       FROM generate_series($4::bigint, $4::bigint + $1 - 1, 10) g`,
    [count, workflows, base, first],
  );
}
