/** The shapes a step attempt has on its way through the step job, shared by every kind of step. */
import type { Step } from '../definition/model.js';
import type { CachedVersion, StepRef } from './context.js';
import type { EvaluatedParams } from './params.js';
import type { StepStatus } from './status.js';

/** A step attempt row with its instance's, as the step job reads it (loops add their counters). */
export interface OwnedRow {
  id: number;
  step_id: string;
  attempt_id: number;
  status: StepStatus;
  generation: number;
  params: unknown;
  started_at: Date | string | null;
  instance_pk: number;
  workflow_id: string;
  version: number;
  instance_id: number;
  run_id: number;
  instance_status: string;
  instance_params: unknown;
}

/** The attempt an ending is recorded for: enough to fence the write and evaluate the edges. */
export interface AttemptTarget {
  ref: StepRef;
  def: CachedVersion;
  step: Step;
  stepType: string;
  generation: number;
  merged: EvaluatedParams;
  own: EvaluatedParams;
}
