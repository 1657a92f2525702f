export * from './cron/index.js';
export { runPreview, PREVIEW_USAGE, type Writer } from './cli/preview.js';
export { Scheduler, type SchedulerOptions, type TickResult } from './scheduler.js';
export { planFires, type FirePlan, type PlannedFire } from './plan.js';
export { listSchedule, type ActiveSchedule, type ScheduleRow, type SyncItem, type SyncReport } from './store.js';
export { timeTriggerRequestId, type WorkflowStarter, type TimeStartRequest, type TimeTriggerInitiator, type StartResult, type Clock } from './ports.js';
export { schedulerMigrations } from './migrations.js';
export { toTriggerDefinition, scheduleOf, reconcileWithEngine, followEngineLifecycle } from './engine-schedule.js';
export { registerSchedulerMetrics } from './metrics.js';
