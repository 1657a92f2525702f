import { IANAZone } from 'luxon';
import { TriggerError } from './errors.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A stretch of time [from, to) during which a zone keeps one UTC offset (minutes). */
export interface OffsetSegment {
  from: number;
  to: number;
  offset: number;
}

/**
 * A zone's UTC offsets, sampled on the hour and refined to the exact minute where they change.
 * Every tzdb rule keeps an offset for weeks, so hourly samples find every transition; a cache of
 * samples lets thousands of triggers in one zone share the (comparatively slow) Intl look-ups.
 */
export class ZoneTimeline {
  private readonly samples = new Map<number, number>();

  constructor(readonly zone: IANAZone) {}

  get name(): string {
    return this.zone.name;
  }

  offsetAt(ts: number): number {
    const cached = this.samples.get(ts);
    if (cached !== undefined) return cached;
    const off = this.zone.offset(ts);
    // Bounded: an unbounded Map would grow with every distinct day ever computed.
    if (this.samples.size > 200_000) this.samples.clear();
    this.samples.set(ts, off);
    return off;
  }

  /** Offset segments covering [from, to), in order. */
  segments(from: number, to: number): OffsetSegment[] {
    const start = Math.floor(from / HOUR) * HOUR;
    const out: OffsetSegment[] = [];
    let segFrom = start;
    let prevTs = start;
    let prevOff = this.offsetAt(start);
    for (let ts = start + HOUR; ts < to + HOUR; ts += HOUR) {
      const off = this.offsetAt(ts);
      if (off !== prevOff) {
        const change = this.findChange(prevTs, ts, prevOff);
        out.push({ from: segFrom, to: change, offset: prevOff });
        segFrom = change;
        prevOff = off;
      }
      prevTs = ts;
    }
    out.push({ from: segFrom, to: Math.max(to, prevTs) + HOUR, offset: prevOff });
    return out;
  }

  /** First minute in (lo, hi] whose offset differs from `offLo`. */
  private findChange(lo: number, hi: number, offLo: number): number {
    let a = lo / MINUTE;
    let b = hi / MINUTE;
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (this.zone.offset(mid * MINUTE) === offLo) a = mid;
      else b = mid;
    }
    return b * MINUTE;
  }
}

const timelines = new Map<string, ZoneTimeline>();

/**
 * Resolves an IANA zone name, including legacy links such as `US/Pacific`. `UTC` is the default
 * when no zone is given. Throws `TriggerError` for unknown names.
 */
export function resolveZone(name: string | undefined | null): ZoneTimeline {
  const key = name === undefined || name === null || name === '' ? 'UTC' : name;
  if (typeof key !== 'string') throw new TriggerError('timezone must be a string such as "America/New_York"', 'timezone');
  const hit = timelines.get(key);
  if (hit) return hit;
  if (!IANAZone.isValidZone(key)) {
    throw new TriggerError(`unknown time zone "${key}"; use an IANA name such as "America/New_York" or "UTC"`, 'timezone');
  }
  const tl = new ZoneTimeline(IANAZone.create(key));
  timelines.set(key, tl);
  return tl;
}
