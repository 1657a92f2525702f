import type { Engine } from '@baton/engine-core';
import { enqueueOutbound, signalEventsOf, type PublishedHook, type SinkConfig } from './signals-sources.js';

/**
 * Workflow and step status changes go to the configured sinks through the durable outbox, in the
 * transaction that records the change (so an event is published if and only if it happened).
 */
export function wireOutboundEvents(engine: Engine, sinks: readonly SinkConfig[]): void {
  if (sinks.length === 0) return;
  const wants = (kind: 'workflow' | 'step'): boolean => sinks.some((s) => s.events.includes(kind));
  if (wants('step')) {
    engine.onStepCompleted(async (tx, _outbox, e) => {
      await enqueueOutbound(
        tx,
        { kind: 'step', workflowId: e.workflowId, workflowInstanceId: e.instanceId, runId: e.runId, stepId: e.stepId, attempt: e.attemptId, status: e.status, details: { version: e.version } },
        sinks,
      );
    }, 'outbound step events');
  }
  if (wants('workflow')) {
    engine.onInstanceCompleted(async (tx, _outbox, e) => {
      await enqueueOutbound(
        tx,
        { kind: 'workflow', workflowId: e.workflowId, workflowInstanceId: e.instanceId, runId: e.runId, status: e.status, details: { version: e.version, ...(e.reason ? { reason: e.reason } : {}) } },
        sinks,
      );
    }, 'outbound workflow events');
  }
}

/**
 * Signals published over REST, CloudEvents, SNS and Kafka go to the sinks that take signals,
 * through the outbox in the publishing transaction; duplicates stored nothing and send nothing.
 * Undefined when no sink takes signals. (Step outputs are enqueued by the engine wiring.)
 */
export function publishedSignalsOutbound(sinks: readonly SinkConfig[]): PublishedHook | undefined {
  const signalSinks = sinks.filter((s) => s.events.includes('signal'));
  if (signalSinks.length === 0) return undefined;
  return async (tx, results, signals) => {
    const events = signalEventsOf(results, signals);
    if (events.length > 0) await enqueueOutbound(tx, events, signalSinks);
  };
}
