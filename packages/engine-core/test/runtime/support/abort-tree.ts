import type { Db } from '../../../src/index.js';

/**
 * A loop of three iterations running `inner` beside a subworkflow running `child`: the runs
 * below an instance that ending it (kill, stop, timeout) has to reach.
 */
export function loopAndSubworkflowSteps(inner: Record<string, unknown>): Array<Record<string, unknown>> {
  return [
    {
      foreach: {
        id: 'loop',
        params: { loop_params: { type: 'MAP', value: { i: { value: [1, 2, 3], type: 'LONG_ARRAY' } } } },
        steps: [inner],
      },
    },
    { subworkflow: { id: 'sub', params: { subworkflow_id: { value: 'child', type: 'STRING' } } } },
  ];
}

/** Each step attempt of an instance run as `STATUS: reason`, by step id. */
export async function stepStatuses(db: Db, instancePk: number): Promise<Record<string, string>> {
  const res = await db.query<{ step_id: string; status: string; reason: string | null }>(
    'SELECT step_id, status, reason FROM baton_step_attempts WHERE instance_pk = $1 ORDER BY step_id',
    [instancePk],
  );
  return Object.fromEntries(res.rows.map((r) => [r.step_id, `${r.status}: ${r.reason}`]));
}
