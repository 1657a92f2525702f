import { decodeParams, type EvaluatedParams, type Queryable } from '@baton/engine-core';

/*
 * Reads of the engine's tables inside the caller's transaction. Hooks, gates and SEL extensions
 * run inside the engine's transactions, and on PGlite (one connection) a query outside that
 * transaction waits for it to end: the engine's read API (`getRun`, `getStepAttempt`) uses its own
 * connection, so these few lookups go through the given transaction instead. Read-only.
 */

/**
 * The request id that started an instance run (a signal trigger's firing id, for getFromSignal).
 * A foreach/while iteration (an inline workflow, `#` in its id) has none of its own: it reads the
 * run its loop step belongs to, up through nested loops.
 */
export async function instanceRequestId(q: Queryable, workflowId: string, instanceId: number, runId: number): Promise<string | undefined> {
  const res = await q.query<{ request_id: string | null }>(
    `WITH RECURSIVE up AS (
       SELECT i.workflow_id, i.request_id, i.parent_attempt_pk, 0 AS depth FROM baton_workflow_instances i
        WHERE i.workflow_id = $1 AND i.instance_id = $2 AND i.run_id = $3
       UNION ALL
       SELECT p.workflow_id, p.request_id, p.parent_attempt_pk, up.depth + 1
         FROM up JOIN baton_step_attempts a ON a.id = up.parent_attempt_pk JOIN baton_workflow_instances p ON p.id = a.instance_pk
        WHERE position('#' in up.workflow_id) > 0 AND up.depth < 100
     )
     SELECT request_id FROM up ORDER BY depth DESC LIMIT 1`,
    [workflowId, instanceId, runId],
  );
  return res.rows[0]?.request_id ?? undefined;
}

/** The latest attempt number of a step in an instance run. */
export async function latestAttemptId(q: Queryable, workflowId: string, instanceId: number, runId: number, stepId: string): Promise<number | undefined> {
  const res = await q.query<{ attempt_id: number }>(
    `SELECT a.attempt_id FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
      WHERE i.workflow_id = $1 AND i.instance_id = $2 AND i.run_id = $3 AND a.step_id = $4 ORDER BY a.attempt_id DESC LIMIT 1`,
    [workflowId, instanceId, runId, stepId],
  );
  const a = res.rows[0]?.attempt_id;
  return a === undefined ? undefined : Number(a);
}

/** The engine's key of a step attempt (what `Engine.recheckStep` takes), in the latest run. */
export async function attemptPk(q: Queryable, workflowId: string, instanceId: string | number | bigint, stepId: string, attemptId: number): Promise<number | undefined> {
  const res = await q.query<{ id: number | string }>(
    `SELECT a.id FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
      WHERE i.workflow_id = $1 AND i.instance_id = $2 AND a.step_id = $3 AND a.attempt_id = $4 ORDER BY i.run_id DESC LIMIT 1`,
    [workflowId, instanceId.toString(), stepId, attemptId],
  );
  const id = res.rows[0]?.id;
  return id === undefined ? undefined : Number(id);
}

/** The evaluated workflow params of an instance run (by the engine's key), as the run stored them. */
export async function instanceParams(q: Queryable, instancePk: number): Promise<EvaluatedParams> {
  const res = await q.query<{ params: unknown }>('SELECT params FROM baton_workflow_instances WHERE id = $1', [instancePk]);
  return decodeParams(res.rows[0]?.params);
}
