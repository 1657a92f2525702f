import type { Queryable } from '@baton/engine-core';

/** Why a time-triggered run started; the engine stores it with the instance. */
export interface TimeTriggerInitiator {
  type: 'TIME';
  /** The trigger's key within the workflow (see `CompiledTrigger.key`). */
  trigger: string;
  /** The scheduled fire instant, ISO-8601 UTC. */
  fire_time: string;
  /** Present (true) when the fire time was missed (downtime) and is started by the catch-up policy. */
  catch_up?: true;
  timezone: string;
  expression: string;
}

export interface TimeStartRequest {
  workflowId: string;
  /** The active version the schedule row follows (the version whose trigger fired). */
  version: number;
  /** `RUN_TS` = the scheduled fire instant in epoch ms (not the wall clock when it started). */
  params: { RUN_TS: number; WORKFLOW_CRON_TIMEZONE: string };
  /** Deterministic: `time-trigger:<workflow>:<trigger>:<fire time ISO-8601 UTC>`. */
  requestId: string;
  initiator: TimeTriggerInitiator;
}

export interface StartResult {
  workflowInstanceId: string | number | bigint;
  /** False when an instance with this request id already existed (nothing new was started). */
  created: boolean;
}

/**
 * What the scheduler needs from the engine to start a run. The start runs inside the caller's
 * transaction, so starting the run and advancing the trigger's watermark commit together (a
 * crash does both or neither), and it must be idempotent by `requestId` (a UNIQUE request id on
 * the engine's instances). Same shape as @baton/signals' starter port, so one adapter serves both.
 */
export interface WorkflowStarter {
  startWorkflow(tx: Queryable, req: TimeStartRequest): Promise<StartResult>;
  /**
   * Optional: many starts in one statement (same contract as `startWorkflow` for each). When
   * present the scheduler hands it a whole batch of fire times at once, which is what keeps
   * 100,000 triggers due in one minute within seconds; without it, starts go one by one.
   */
  startWorkflows?(tx: Queryable, reqs: readonly TimeStartRequest[]): Promise<StartResult[]>;
}

/** The scheduler's notion of "now" (epoch ms); tests inject a controllable clock. */
export type Clock = () => number;

export function timeTriggerRequestId(workflowId: string, triggerKey: string, fireMs: number): string {
  return `time-trigger:${workflowId}:${triggerKey}:${new Date(fireMs).toISOString()}`;
}
