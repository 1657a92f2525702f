/**
 * Plans one batch of claimed trigger rows: which runs to start (with their request ids, which make
 * a retried fire harmless) and where each row moves next. Pure: the scheduler starts the runs and
 * advances the rows in its transaction.
 */
import { stableJitterMs } from './cron/jitter.js';
import { compileTrigger, type CompileOptions } from './cron/trigger.js';
import type { Advance, FiringRow } from './firing-sql.js';
import { planFires, type FirePlan } from './plan.js';
import { timeTriggerRequestId, type TimeStartRequest } from './ports.js';
import { emptyTick, type TickResult } from './tick-result.js';

export interface BatchPlan {
  result: TickResult;
  advances: Advance[];
  requests: TimeStartRequest[];
}

/** `due` receives the due time (fire time plus jitter) of every run planned. */
export function planBatch(rows: readonly FiringRow[], now: number, due: number[], graceMs: number, compile?: CompileOptions): BatchPlan {
  const result = { ...emptyTick(), claimed: rows.length };
  const advances: Advance[] = [];
  const requests: TimeStartRequest[] = [];
  const plans = new Map<string, FirePlan>();
  for (const row of rows) {
    const keep: Advance = {
      workflowId: row.workflow_id,
      key: row.trigger_key,
      nextFire: row.next_fire_ms,
      nextDue: row.next_due_ms,
      watermark: row.watermark_ms,
      started: 0,
      catchUp: 0,
      skipped: 0,
      error: row.last_error,
    };
    if (!row.enabled || row.next_fire_ms === null) {
      advances.push(keep);
      continue;
    }
    const trigger = compileTrigger(row.definition, compile);
    const jitter = stableJitterMs(row.workflow_id, row.trigger_key, trigger.fuzzyMaxDelayMs);
    // Rows sharing a schedule (thousands of workflows on one cron) share one plan.
    const memoKey = `${trigger.expression}\u0000${trigger.timezone}\u0000${trigger.catchUp.policy}\u0000${trigger.catchUp.maxRuns}\u0000${jitter}\u0000${row.next_fire_ms}\u0000${row.watermark_ms}\u0000${graceMs}`;
    let plan = plans.get(memoKey);
    if (!plan) {
      plan = planFires(trigger, jitter, row.next_fire_ms, row.watermark_ms, now, graceMs);
      plans.set(memoKey, plan);
    }
    for (const fire of plan.start) {
      const req: TimeStartRequest = {
        workflowId: row.workflow_id,
        version: row.workflow_version,
        params: { RUN_TS: fire.fireMs, WORKFLOW_CRON_TIMEZONE: trigger.timezone },
        requestId: timeTriggerRequestId(row.workflow_id, row.trigger_key, fire.fireMs),
        initiator: {
          type: 'TIME',
          trigger: row.trigger_key,
          fire_time: new Date(fire.fireMs).toISOString(),
          ...(fire.catchUp ? { catch_up: true as const } : {}),
          timezone: trigger.timezone,
          expression: trigger.expression,
        },
      };
      requests.push(req);
      due.push(fire.fireMs + jitter);
    }
    const catchUp = plan.start.filter((f) => f.catchUp).length;
    result.started += plan.start.length;
    result.catchUp += catchUp;
    result.skipped += plan.skipped;
    advances.push({
      ...keep,
      nextFire: plan.nextFireMs,
      nextDue: plan.nextFireMs === null ? null : plan.nextFireMs + jitter,
      watermark: plan.watermarkMs,
      started: plan.start.length,
      catchUp,
      skipped: plan.skipped,
      error: null,
    });
  }
  return { result, advances, requests };
}
