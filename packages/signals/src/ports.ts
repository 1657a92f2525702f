import type { Properties, Queryable, Workflow } from '@baton/engine-core';
import type { SignalParams } from './model.js';

/** A signal instance a trigger consumed, as recorded with the firing and handed to the run. */
export interface ConsumedSignal {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  params: SignalParams;
}

/** Why the run was started; the engine stores it with the instance (SEL getFromSignal reads it). */
export interface SignalTriggerInitiator {
  type: 'SIGNAL';
  workflowId: string;
  triggerId: string;
  signals: ConsumedSignal[];
}

export interface StartRequest {
  workflowId: string;
  /** The active version when the trigger fired (the version whose trigger matched). */
  version: number | 'active';
  /** The trigger's `params` definitions (run params; the engine evaluates them). */
  params: Record<string, unknown>;
  /** Deterministic: `signal-trigger:<workflow>:<trigger>:<consumed instance ids>`. */
  requestId: string;
  initiator: SignalTriggerInitiator;
}

export interface StartResult {
  workflowInstanceId: string | number | bigint;
  /** False when an instance with this request id already existed (nothing new was started). */
  created: boolean;
}

/**
 * What signals needs from the engine to start a run. The start runs inside the caller's
 * transaction, so consuming the signals and starting the run commit together, and it must be
 * idempotent by `requestId` (a UNIQUE request id on the engine's instances).
 */
export interface WorkflowStarter {
  startWorkflow(tx: Queryable, req: StartRequest): Promise<StartResult>;
  /** Optional: many starts at once (results in request order); a matcher batch uses it when present. */
  startWorkflows?(tx: Queryable, reqs: readonly StartRequest[]): Promise<StartResult[]>;
}

/** Evaluation context of a trigger's SEL `condition` and `dedup_expr`. */
export interface TriggerExpressionContext {
  workflowId: string;
  triggerId: string;
  signals: ConsumedSignal[];
}

/** The SEL side of triggers; the integrator wires it to @baton/sel. */
export interface TriggerExpressions {
  condition(source: string, ctx: TriggerExpressionContext): boolean | Promise<boolean>;
  /** A dedupe key: a firing whose key equals an earlier started firing's key starts nothing. */
  dedupKey(source: string, ctx: TriggerExpressionContext): string | undefined | Promise<string | undefined>;
}

/** A step attempt of a workflow instance (the unit that waits for signals and emits them). */
export interface StepAttemptRef {
  workflowId: string;
  workflowInstanceId: string | number | bigint;
  stepId: string;
  attempt: number;
}

/** Called in the transaction that found a waiting step's dependencies satisfied (or bypassed). */
export interface StepGateListener {
  gateOpened(tx: Queryable, step: StepAttemptRef, matched: (ConsumedSignal | null)[], how: 'SIGNALS' | 'BYPASS'): Promise<void>;
}

/** The active version of a workflow as the engine's versions store reports it. */
export interface ActiveDefinition {
  workflowId: string;
  version: number;
  workflow: Workflow;
  properties?: Properties;
}
