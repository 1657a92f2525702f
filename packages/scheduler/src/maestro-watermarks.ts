import { TriggerError } from './cron/errors.js';
import type { TimeTriggerDefinition } from './cron/trigger.js';

export interface TriggerWatermark {
  trigger: TimeTriggerDefinition;
  /** The latest fire time already handled, epoch ms. */
  watermarkMs: number;
}

export interface MaestroTriggerExecution {
  workflowId: string;
  version: string;
  watermarks: TriggerWatermark[];
}

/**
 * Reads Maestro's time-trigger execution record (`time_triggers_with_watermarks`, with
 * `last_trigger_timestamp` in epoch seconds), so a workflow moved from Maestro continues its
 * schedule where Maestro left it instead of starting from now.
 */
export function parseMaestroTriggerExecution(input: unknown): MaestroTriggerExecution {
  const fail = (why: string): never => {
    throw new TriggerError(`Maestro time-trigger execution: ${why}`, 'time_triggers_with_watermarks');
  };
  if (typeof input !== 'object' || input === null) return fail('expected an object');
  const o = input as Record<string, unknown>;
  if (typeof o.workflow_id !== 'string' || !o.workflow_id) fail('workflow_id must be a non-empty string');
  if (!Array.isArray(o.time_triggers_with_watermarks)) fail('time_triggers_with_watermarks must be an array');
  const watermarks = (o.time_triggers_with_watermarks as unknown[]).map((entry, i) => {
    const e = entry as { time_trigger?: unknown; last_trigger_timestamp?: unknown };
    if (typeof e?.time_trigger !== 'object' || e.time_trigger === null) fail(`entry ${i} has no time_trigger object`);
    const ts = typeof e.last_trigger_timestamp === 'string' ? Number(e.last_trigger_timestamp) : e.last_trigger_timestamp;
    if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < 0) fail(`entry ${i}: last_trigger_timestamp must be epoch seconds`);
    return { trigger: e.time_trigger as TimeTriggerDefinition, watermarkMs: (ts as number) * 1000 };
  });
  return { workflowId: o.workflow_id as string, version: String(o.workflow_version ?? ''), watermarks };
}
