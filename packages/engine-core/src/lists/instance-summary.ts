import type { InstanceStatus } from '../runtime/status.js';

/** One run of an instance as lists and the read API show it. */
export interface InstanceSummary {
  workflowId: string;
  version: number;
  instanceId: number;
  runId: number;
  status: InstanceStatus;
  requestId: string | null;
  initiator: unknown;
  reason: string | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

/** The columns of `baton_workflow_instances` a summary is made of. */
export interface InstanceSummaryRow {
  workflow_id: string;
  version: number;
  instance_id: string | number;
  run_id: number;
  status: InstanceStatus;
  request_id: string | null;
  initiator: unknown;
  reason: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  ended_at: Date | string | null;
}

export function toInstanceSummary(r: InstanceSummaryRow): InstanceSummary {
  return {
    workflowId: r.workflow_id,
    version: r.version,
    instanceId: Number(r.instance_id),
    runId: r.run_id,
    status: r.status,
    requestId: r.request_id,
    initiator: r.initiator,
    reason: r.reason,
    createdAt: new Date(r.created_at),
    startedAt: r.started_at == null ? null : new Date(r.started_at),
    endedAt: r.ended_at == null ? null : new Date(r.ended_at),
  };
}
