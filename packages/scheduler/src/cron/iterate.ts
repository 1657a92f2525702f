import { addDays, dayMatches, type LocalDate } from './calendar.js';
import type { CronSpec } from './spec.js';
import type { OffsetSegment, ZoneTimeline } from './zone.js';

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
// Offsets stay within ±14 h; a margin of 16 h covers every instant a local day can map to.
const WINDOW_MARGIN = 16 * HOUR;
// A schedule that matches no date for this long never fires (e.g. a past year field).
const SEARCH_YEARS = 400;

/**
 * DST semantics, applied to each matching wall-clock time of a local day:
 * - a wall time that exists once maps to its instant;
 * - a wall time inside a spring-forward gap maps to one instant, shifted forward by the gap's
 *   length (Temporal's "compatible" disambiguation: the offset in force before the gap);
 * - a wall time inside a fall-back overlap maps to its first occurrence only, unless the
 *   schedule is interval-like (see `CronSpec.intervalLike`), which fires at both occurrences;
 * - instants are deduplicated, so a shifted gap time that coincides with a regular fire time
 *   fires once.
 */
function instantsOfWall(wall: number, segs: readonly OffsetSegment[], both: boolean, out: number[]): void {
  let first = -1;
  for (const seg of segs) {
    const t = wall - seg.offset * MINUTE;
    if (t >= seg.from && t < seg.to) {
      if (first < 0) {
        first = t;
        out.push(t);
        if (!both) return;
      } else if (t !== first) {
        out.push(t);
      }
    }
  }
  if (first >= 0) return;
  // In a gap: the segment before the jump is the last one whose offset places the wall time
  // after its end.
  for (let i = segs.length - 1; i >= 0; i--) {
    const seg = segs[i]!;
    if (wall - seg.offset * MINUTE >= seg.to) {
      out.push(wall - seg.offset * MINUTE);
      return;
    }
  }
}

interface DayContext {
  date: LocalDate;
  /** The local midnight read as if it were UTC. */
  wall0: number;
  segs: OffsetSegment[];
  minOffset: number;
  maxOffset: number;
}

const dayCache = new WeakMap<ZoneTimeline, Map<number, DayContext>>();

function dayContext(tl: ZoneTimeline, date: LocalDate): DayContext {
  const wall0 = Date.UTC(date.year, date.month - 1, date.day);
  let days = dayCache.get(tl);
  if (!days) dayCache.set(tl, (days = new Map()));
  const hit = days.get(wall0);
  if (hit) return hit;
  const segs = tl.segments(wall0 - WINDOW_MARGIN, wall0 + DAY + WINDOW_MARGIN);
  let minOffset = Infinity;
  let maxOffset = -Infinity;
  for (const s of segs) {
    minOffset = Math.min(minOffset, s.offset);
    maxOffset = Math.max(maxOffset, s.offset);
  }
  const ctx = { date, wall0, segs, minOffset: minOffset * MINUTE, maxOffset: maxOffset * MINUTE };
  if (days.size > 20_000) days.clear();
  days.set(wall0, ctx);
  return ctx;
}

function hourInstants(spec: CronSpec, day: DayContext, hour: number): number[] {
  const out: number[] = [];
  const base = day.wall0 + hour * HOUR;
  for (const m of spec.minutes) {
    for (const s of spec.seconds) instantsOfWall(base + m * MINUTE + s * SECOND, day.segs, spec.intervalLike, out);
  }
  return out;
}

/**
 * The local date at `ts`, give or take the hour around a transition: callers start a day early
 * (or late), so reading the offset on the whole hour (cached) is exact enough.
 */
function localDate(tl: ZoneTimeline, ts: number): LocalDate {
  const d = new Date(ts + tl.offsetAt(Math.floor(ts / HOUR) * HOUR) * MINUTE);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Next matching local date on or after `d`, skipping whole months and years that cannot match. */
function nextMatchingDate(spec: CronSpec, d: LocalDate, lastYear: number): LocalDate | null {
  let cur = d;
  while (cur.year <= lastYear) {
    if (spec.years && !spec.years.has(cur.year)) {
      cur = { year: cur.year + 1, month: 1, day: 1 };
      continue;
    }
    if (!spec.months.has(cur.month)) {
      cur = cur.month === 12 ? { year: cur.year + 1, month: 1, day: 1 } : { year: cur.year, month: cur.month + 1, day: 1 };
      continue;
    }
    if (dayMatches(spec, cur.year, cur.month, cur.day)) return cur;
    cur = addDays(cur, 1);
  }
  return null;
}

function prevMatchingDate(spec: CronSpec, d: LocalDate, firstYear: number): LocalDate | null {
  let cur = d;
  while (cur.year >= firstYear) {
    if (spec.years && !spec.years.has(cur.year)) {
      cur = { year: cur.year - 1, month: 12, day: 31 };
      continue;
    }
    if (!spec.months.has(cur.month)) {
      const prevMonthEnd = addDays({ year: cur.year, month: cur.month, day: 1 }, -1);
      cur = prevMonthEnd;
      continue;
    }
    if (dayMatches(spec, cur.year, cur.month, cur.day)) return cur;
    cur = addDays(cur, -1);
  }
  return null;
}

/**
 * Fire instants (epoch ms) strictly after `after`, ascending, lazily. Works hour by hour through
 * matching local days and holds back instants until no later wall time can produce an earlier
 * one (a fall-back overlap reorders instants relative to wall times by at most its length).
 */
export function* fireTimesAfter(spec: CronSpec, tl: ZoneTimeline, after: number): Generator<number> {
  const start = addDays(localDate(tl, after), -1);
  const lastYear = start.year + SEARCH_YEARS;
  let pending: number[] = [];
  let last = -Infinity;
  let date: LocalDate | null = nextMatchingDate(spec, start, lastYear);
  while (date) {
    const day = dayContext(tl, date);
    for (const h of spec.hours) {
      pending.push(...hourInstants(spec, day, h));
      pending.sort((a, b) => a - b);
      // Any wall time from the next hour on maps to at least this instant.
      const threshold = day.wall0 + (h + 1) * HOUR - day.maxOffset;
      let i = 0;
      for (; i < pending.length && pending[i]! < threshold; i++) {
        const t = pending[i]!;
        if (t > after && t !== last) {
          last = t;
          yield t;
        }
      }
      pending = pending.slice(i);
    }
    date = nextMatchingDate(spec, addDays(date, 1), lastYear);
  }
  for (const t of pending.sort((a, b) => a - b)) {
    if (t > after && t !== last) {
      last = t;
      yield t;
    }
  }
}

/** Fire instants strictly before `before`, descending, lazily (mirror of `fireTimesAfter`). */
export function* fireTimesBefore(spec: CronSpec, tl: ZoneTimeline, before: number): Generator<number> {
  const start = addDays(localDate(tl, before), 1);
  const firstYear = start.year - SEARCH_YEARS;
  const hoursDesc = [...spec.hours].reverse();
  let pending: number[] = [];
  let last = Infinity;
  let date: LocalDate | null = prevMatchingDate(spec, start, firstYear);
  while (date) {
    const day = dayContext(tl, date);
    for (const h of hoursDesc) {
      pending.push(...hourInstants(spec, day, h));
      pending.sort((a, b) => b - a);
      // Any wall time before this hour maps to at most this instant.
      const threshold = day.wall0 + h * HOUR - day.minOffset;
      let i = 0;
      for (; i < pending.length && pending[i]! >= threshold; i++) {
        const t = pending[i]!;
        if (t < before && t !== last) {
          last = t;
          yield t;
        }
      }
      pending = pending.slice(i);
    }
    date = prevMatchingDate(spec, addDays(date, -1), firstYear);
  }
  for (const t of pending.sort((a, b) => b - a)) {
    if (t < before && t !== last) {
      last = t;
      yield t;
    }
  }
}
