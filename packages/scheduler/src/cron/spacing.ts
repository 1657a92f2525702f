import type { CronSpec } from './spec.js';

/**
 * The shortest gap, in seconds, between two consecutive wall-clock fire times of the schedule
 * (within a day, and from a day's last time to the next day's first). Computed from the
 * second/minute/hour sets, so it is exact for the wall clock; DST can only shift a few fire
 * times of one day, which the minimum-interval rule does not try to police.
 */
export function minWallSpacingSeconds(spec: CronSpec): number {
  const times: number[] = [];
  for (const h of spec.hours) for (const m of spec.minutes) for (const s of spec.seconds) times.push(h * 3600 + m * 60 + s);
  let min = times[0]! + 86_400 - times[times.length - 1]!;
  for (let i = 1; i < times.length; i++) min = Math.min(min, times[i]! - times[i - 1]!);
  return min;
}
