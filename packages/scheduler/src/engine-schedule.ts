import { getVersion, listActiveWorkflows, listWorkflowEvents, workflowLifecycle, type Db, type StoredVersion, type TimeTrigger, type WorkflowLifecycle } from '@baton/engine-core';
import type { TimeTriggerDefinition } from './cron/trigger.js';
import type { Scheduler } from './scheduler.js';
import type { ActiveSchedule } from './schedule-rows.js';
import type { SyncReport } from './sync.js';

/**
 * The engine's normalised time trigger back in the JSON shape the scheduler validates. Baton's
 * own additions (`id`, `catch_up`) arrive in `extra`. INTERVAL triggers are passed through so
 * validation reports them as unsupported on the row instead of dropping them silently.
 */
export function toTriggerDefinition(t: TimeTrigger): TimeTriggerDefinition {
  const extra = (t.extra ?? {}) as Partial<TimeTriggerDefinition>;
  const out: Record<string, unknown> = { ...extra, type: t.type };
  if (t.type === 'CRON') out.cron = t.cron;
  if (t.type === 'PREDEFINED') out.expression = t.expression;
  if (t.type !== 'INTERVAL') {
    if (t.timezone !== undefined) out.timezone = t.timezone;
    const d = t.fuzzyMaxDelay;
    if (d !== undefined) out.fuzzy_max_delay = 'seconds' in d ? d.seconds : d.template;
  }
  return out as unknown as TimeTriggerDefinition;
}

/** What the schedule should be for a workflow's active version (undefined: none is active). */
export function scheduleOf(v: Pick<StoredVersion, 'version' | 'workflow' | 'properties'> | undefined): ActiveSchedule | null {
  if (!v) return null;
  return {
    version: v.version,
    triggers: v.workflow.timeTriggers.map(toTriggerDefinition),
    disabled: v.properties.timeTriggerDisabled === true,
  };
}

/** Brings the whole schedule in line with the engine's active workflows (start-up). */
export async function reconcileWithEngine(scheduler: Scheduler, db: Db): Promise<SyncReport> {
  const actives = await listActiveWorkflows(db);
  return scheduler.reconcile(actives.map((v) => ({ workflowId: v.workflowId, ...scheduleOf(v)! })));
}

/**
 * Keeps the schedule in step with workflow lifecycle events: this process's events at once (the
 * emitter calls back after each commit), and every process's events from the events table on an
 * interval, so a change made by a process without a scheduler takes effect too. Returns `stop`.
 */
export async function followEngineLifecycle(
  scheduler: Scheduler,
  db: Db,
  opts: { lifecycle?: WorkflowLifecycle; pollIntervalMs?: number; afterSeq?: number; onError?: (err: unknown) => void } = {},
): Promise<() => void> {
  const onError = opts.onError ?? ((err: unknown) => process.emitWarning(`scheduler: following workflow events: ${String(err)}`));
  const resync = async (workflowId: string): Promise<void> => {
    await scheduler.syncWorkflow(workflowId, scheduleOf(await getVersion(db, workflowId, 'active')));
  };
  const unsubscribe = (opts.lifecycle ?? workflowLifecycle).subscribe((event) => resync(event.workflowId));
  let seq = opts.afterSeq ?? 0;
  if (opts.afterSeq === undefined) {
    // Follow from now on: what happened before is what reconcileWithEngine loaded.
    for (let page = await listWorkflowEvents(db, seq, 1000); page.length > 0; page = await listWorkflowEvents(db, seq, 1000)) {
      seq = page[page.length - 1]!.seq;
    }
  }
  let busy = false;
  const poll = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      while (true) {
        const events = await listWorkflowEvents(db, seq, 1000);
        if (events.length === 0) break;
        for (const id of new Set(events.map((e) => e.workflowId))) await resync(id);
        seq = events[events.length - 1]!.seq;
      }
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void poll(), opts.pollIntervalMs ?? 5_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
