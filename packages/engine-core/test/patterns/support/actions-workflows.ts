import type { WorkflowRequest } from '../../../src/definition/model.js';
import { workflow } from '../../runtime/support/engine.js';

/**
 * Workflows of the step-action crash tests, loaded the same way by the test and by every engine
 * process it spawns (versions are immutable, so each holds identical copies).
 * `Counted` writes a row per execution (`test_executions`); `Hang` runs until aborted
 * (recorded in `test_aborts`).
 */
export function actionWorkflows(): WorkflowRequest[] {
  const parallel = { run_strategy: 'parallel' };
  return [
    workflow({
      // Paused instances stay IN_PROGRESS: room for all of them at once.
      properties: { run_strategy: { rule: 'parallel', workflow_concurrency: 100 } },
      workflow: { id: 'held', steps: [{ step: { id: 'first', type: 'Counted', transition: { successors: { target: 'true' } } } }, { step: { id: 'target', type: 'Counted' } }] },
    }),
    workflow({ properties: parallel, workflow: { id: 'deadline', timeout: 2, steps: [{ step: { id: 'hang', type: 'Hang' } }] } }),
    workflow({ properties: parallel, workflow: { id: 'hanging', steps: [{ step: { id: 'hang', type: 'Hang', transition: { successors: { after: 'true' } } } }, { step: { id: 'after', type: 'Counted' } }] } }),
  ];
}

export const EXECUTIONS_TABLE = `CREATE TABLE test_executions (
  id BIGSERIAL PRIMARY KEY, attempt_pk BIGINT NOT NULL, workflow_id TEXT NOT NULL, instance_id BIGINT NOT NULL,
  step_id TEXT NOT NULL, pid INTEGER NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())`;

export const ABORTS_TABLE = `CREATE TABLE test_aborts (
  id BIGSERIAL PRIMARY KEY, attempt_pk BIGINT NOT NULL, pid INTEGER NOT NULL, reason TEXT NOT NULL)`;

export const INSTANCE_ENDS_TABLE = `CREATE TABLE test_instance_ends (
  id BIGSERIAL PRIMARY KEY, instance_pk BIGINT NOT NULL, status TEXT NOT NULL, pid INTEGER NOT NULL)`;
