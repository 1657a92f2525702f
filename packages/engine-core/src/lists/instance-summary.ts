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
