export { TriggerError } from './errors.js';
export type { CronSpec, CronForm } from './spec.js';
export { parseCron, PREDEFINED } from './parse.js';
export { parseDurationMs } from './duration.js';
export { stableJitterMs } from './jitter.js';
export { resolveZone, ZoneTimeline } from './zone.js';
export { minWallSpacingSeconds } from './spacing.js';
export {
  compileTrigger,
  nextFireTimes,
  nextFireMs,
  prevFireTime,
  prevFireMs,
  formatInZone,
  previewFireTimes,
  type PreviewedFire,
  DEFAULT_MIN_INTERVAL_MS,
  DEFAULT_CATCH_UP,
  type TimeTriggerDefinition,
  type CompiledTrigger,
  type CompileOptions,
  type CatchUp,
  type CatchUpPolicy,
} from './trigger.js';
