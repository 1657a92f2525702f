import { purgedRunMessage, runTombstone, type Queryable } from '@baton/engine-core';
import type { ProblemError } from '../http/problem.js';
import { notFound } from './workflow-http.js';

/**
 * The 404 for a run that is not stored: when run retention purged the instance, its detail says
 * so (when, how it ended) instead of "has no instance".
 */
export async function runNotFound(db: Queryable, workflowId: string, instanceId: number, runId?: number): Promise<ProblemError> {
  const tomb = Number.isSafeInteger(instanceId) ? await runTombstone(db, workflowId, instanceId) : undefined;
  if (tomb) return notFound(purgedRunMessage(tomb));
  return notFound(`workflow "${workflowId}" has no instance ${instanceId}${runId === undefined ? '' : ` run ${runId}`}`);
}
