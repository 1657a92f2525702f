import { createHash } from 'node:crypto';
import { stringifyJson } from '../json.js';
import type { SignalParams } from '../model.js';

/** A signal instance was stored (published by a client, a source, or emitted by a step). */
export interface SignalEvent {
  kind: 'signal';
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  params: SignalParams;
  payload?: unknown;
  /** Epoch milliseconds; default: the time of enqueuing. */
  time?: number;
}

/** A workflow instance (run) changed status. */
export interface WorkflowStatusEvent {
  kind: 'workflow';
  workflowId: string;
  workflowInstanceId: string | number | bigint;
  runId?: string | number | bigint;
  status: string;
  /**
   * Distinguishes repeated changes to the same status (e.g. the engine's timeline sequence or
   * status version); part of the event id.
   */
  sequence?: string | number | bigint;
  time?: number;
  details?: Record<string, unknown>;
}

/** A step attempt changed status. */
export interface StepStatusEvent {
  kind: 'step';
  workflowId: string;
  workflowInstanceId: string | number | bigint;
  runId?: string | number | bigint;
  stepId: string;
  attempt: number;
  status: string;
  sequence?: string | number | bigint;
  time?: number;
  details?: Record<string, unknown>;
}

export type OutboundEvent = SignalEvent | WorkflowStatusEvent | StepStatusEvent;

/** CloudEvents `type` of each outbound event. */
export const EVENT_TYPES = {
  signal: 'baton.signal.published',
  workflow: 'baton.workflow.status_changed',
  step: 'baton.step.status_changed',
} as const;

/** The CloudEvents `source` of every outbound event (consumers key their dedupe on source + id). */
export const EVENT_SOURCE = 'urn:baton';

function idParts(e: OutboundEvent): string[] {
  const s = (v: string | number | bigint | undefined): string => (v === undefined ? '' : v.toString());
  switch (e.kind) {
    case 'signal':
      return ['signal', e.name, e.instance_id];
    case 'workflow':
      return ['workflow', e.workflowId, s(e.workflowInstanceId), s(e.runId), e.status, s(e.sequence)];
    case 'step':
      return ['step', e.workflowId, s(e.workflowInstanceId), s(e.runId), e.stepId, String(e.attempt), e.status, s(e.sequence)];
  }
}

/**
 * The stable id of an event: a name-based UUID over what identifies the source event, so the
 * same change enqueued twice (a retried transaction, a second process) has the same id and
 * consumers can deduplicate.
 */
export function outboundEventId(e: OutboundEvent): string {
  const h = createHash('sha256').update(idParts(e).join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The partition key: events of one signal name or one workflow instance keep their order. */
export function messageKey(e: OutboundEvent): string {
  return e.kind === 'signal' ? e.name : `${e.workflowId}:${e.workflowInstanceId.toString()}`;
}

function subject(e: OutboundEvent): string {
  switch (e.kind) {
    case 'signal':
      return `${e.name}/${e.seq_id.toString()}`;
    case 'workflow':
      return `${e.workflowId}/${e.workflowInstanceId.toString()}`;
    case 'step':
      return `${e.workflowId}/${e.workflowInstanceId.toString()}/${e.stepId}/${e.attempt}`;
  }
}

function data(e: OutboundEvent): Record<string, unknown> {
  const idText = (v: string | number | bigint | undefined) => (v === undefined ? undefined : v.toString());
  switch (e.kind) {
    case 'signal':
      return { name: e.name, seq_id: e.seq_id, instance_id: e.instance_id, params: e.params, payload: e.payload ?? null };
    case 'workflow':
      return { workflow_id: e.workflowId, workflow_instance_id: idText(e.workflowInstanceId), run_id: idText(e.runId), status: e.status, details: e.details };
    case 'step':
      return { workflow_id: e.workflowId, workflow_instance_id: idText(e.workflowInstanceId), run_id: idText(e.runId), step_id: e.stepId, attempt: e.attempt, status: e.status, details: e.details };
  }
}

/** The message every sink carries: a CloudEvents 1.0 structured-mode JSON document. */
export function outboundCloudEvent(e: OutboundEvent, id = outboundEventId(e), now = Date.now()): string {
  return stringifyJson({
    specversion: '1.0',
    id,
    source: EVENT_SOURCE,
    type: EVENT_TYPES[e.kind],
    subject: subject(e),
    time: new Date(e.time ?? now).toISOString(),
    datacontenttype: 'application/json',
    data: data(e),
  });
}

/**
 * The outbound events of a publish: one per newly stored instance (duplicates were published
 * before), from the results and the signals in the same order, as publishInTx takes and returns them.
 */
export function signalEventsOf(results: readonly { name: string; seq_id: number | bigint; instance_id: string; duplicate: boolean }[], signals: readonly { params: SignalParams; payload?: unknown }[]): SignalEvent[] {
  const out: SignalEvent[] = [];
  results.forEach((r, i) => {
    if (r.duplicate) return;
    const s = signals[i];
    out.push({ kind: 'signal', name: r.name, seq_id: r.seq_id, instance_id: r.instance_id, params: s?.params ?? {}, payload: s?.payload ?? null });
  });
  return out;
}
