import type { Queryable } from '@baton/engine-core';
import { stableJitterMs } from './cron/jitter.js';
import { compileTrigger, nextFireMs, type CompileOptions, type TimeTriggerDefinition } from './cron/trigger.js';
import { toRow } from './schedule-rows.js';

/**
 * Continues schedules from known watermarks (e.g. imported from Maestro): each enabled trigger
 * row that matches gets the watermark and the first fire time after it, so the catch-up policy
 * decides what happens to the fire times since. A watermark never moves a schedule backwards.
 * Returns the keys that were updated.
 */
export async function seedWatermarks(
  tx: Queryable,
  workflowId: string,
  entries: ReadonlyArray<{ trigger: TimeTriggerDefinition; watermarkMs: number }>,
  opts: CompileOptions = {},
): Promise<string[]> {
  const updated: string[] = [];
  for (const { trigger, watermarkMs } of entries) {
    const compiled = compileTrigger(trigger, opts);
    const res = await tx.query<Record<string, unknown>>(
      'SELECT * FROM scheduler_triggers WHERE workflow_id = $1 AND trigger_key = $2 AND enabled FOR UPDATE',
      [workflowId, compiled.key],
    );
    const row = res.rows[0] && toRow(res.rows[0]);
    if (!row || (row.watermark_ms !== null && row.watermark_ms >= watermarkMs)) continue;
    const [next] = nextFireMs(compiled, watermarkMs, 1);
    const jitter = stableJitterMs(workflowId, compiled.key, compiled.fuzzyMaxDelayMs);
    await tx.query(
      `UPDATE scheduler_triggers SET watermark_ms = $3, next_fire_ms = $4, next_due_ms = $5, updated_at = now()
        WHERE workflow_id = $1 AND trigger_key = $2`,
      [workflowId, compiled.key, watermarkMs, next ?? null, next === undefined ? null : next + jitter],
    );
    updated.push(compiled.key);
  }
  return updated;
}
