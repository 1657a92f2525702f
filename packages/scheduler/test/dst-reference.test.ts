import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { compileTrigger, nextFireMs, prevFireMs } from '../src/index.js';

/**
 * A brute-force reference for the DST rules, independent of the scheduler's iterator: walk real
 * time minute by minute, read each instant's wall clock (luxon's offset), and apply WORKFLOWS.md
 * directly — a matching wall time fires; its second occurrence fires only for interval-like
 * schedules; wall times skipped by a jump fire at the instant of the jump plus their distance
 * into the gap (the gap's length later than the wall time would suggest); duplicates fire once.
 */
const ZONES = [
  'America/New_York',
  'Europe/London',
  'Europe/Rome',
  'Australia/Sydney',
  'Australia/Lord_Howe', // 30-minute DST
  'America/Santiago', // transitions at midnight
  'America/Havana', // spring-forward at 00:00
  'Pacific/Chatham', // +12:45 / +13:45
  'America/St_Johns', // -03:30
  'Europe/Dublin', // "negative" DST in tzdb
];

const MINUTE = 60_000;

function transitions(zone: string): number[] {
  const z = IANAZone.create(zone);
  const out: number[] = [];
  let prev = z.offset(Date.UTC(2024, 0, 1));
  for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2026, 0, 1); t += 30 * MINUTE) {
    const o = z.offset(t);
    if (o !== prev) out.push(t);
    prev = o;
  }
  return out;
}
const TRANSITIONS = new Map(ZONES.map((z) => [z, transitions(z)]));

interface Field {
  text: string;
  values: Set<number>;
}

const range = (lo: number, hi: number, step = 1): number[] => Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

function fieldArb(min: number, max: number): fc.Arbitrary<Field> {
  return fc.oneof(
    fc.constant({ text: '*', values: new Set(range(min, max)) }),
    fc.constantFrom(2, 3, 5, 15, 20, 30).filter((k) => k <= max).map((k) => ({ text: `*/${k}`, values: new Set(range(min, max, k)) })),
    fc.integer({ min, max }).map((a) => ({ text: String(a), values: new Set([a]) })),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 3 }).map((xs) => ({ text: xs.join(','), values: new Set(xs) })),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      return { text: `${lo}-${hi}`, values: new Set(range(lo, hi)) };
    }),
  );
}

function reference(minutes: Set<number>, hours: Set<number>, zone: string, from: number, to: number): number[] {
  const intervalLike = minutes.size > 1;
  const matches = (w: number): boolean => {
    const d = new Date(w);
    return minutes.has(d.getUTCMinutes()) && hours.has(d.getUTCHours());
  };
  const z = IANAZone.create(zone);
  const wallOf = (t: number): number => t + z.offset(t) * MINUTE;
  const seen = new Set<number>();
  const fires = new Set<number>();
  // Start a day early so first occurrences of repeated wall times are always seen first.
  let prevT = from - 86_400_000;
  let prevWall = wallOf(prevT);
  seen.add(prevWall);
  for (let t = prevT + MINUTE; t <= to; t += MINUTE) {
    const wall = wallOf(t);
    for (let w = prevWall + MINUTE; w < wall; w += MINUTE) {
      if (matches(w)) fires.add(prevT + (w - prevWall));
    }
    if (matches(wall) && (!seen.has(wall) || intervalLike)) fires.add(t);
    seen.add(wall);
    prevT = t;
    prevWall = wall;
  }
  return [...fires].filter((t) => t > from && t <= to).sort((a, b) => a - b);
}

describe('DST rules against a brute-force reference', () => {
  it('next and prev fire times match minute-by-minute evaluation around real transitions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.nat(),
        fieldArb(0, 59),
        fieldArb(0, 23),
        (zone, pick, minute, hour) => {
          const list = TRANSITIONS.get(zone)!;
          const transition = list[pick % list.length]!;
          const from = transition - 30 * 3_600_000;
          const to = transition + 30 * 3_600_000;
          const cron = `${minute.text} ${hour.text} * * *`;
          const expected = reference(minute.values, hour.values, zone, from, to);
          const trigger = compileTrigger({ type: 'CRON', cron, timezone: zone });
          const ours = nextFireMs(trigger, from, expected.length + 1).filter((t) => t <= to);
          expect(ours.map((t) => new Date(t).toISOString()), `${cron} in ${zone}`).toEqual(expected.map((t) => new Date(t).toISOString()));
          const back = prevFireMs(trigger, to + 1, expected.length + 1).filter((t) => t > from).reverse();
          expect(back, `prev ${cron} in ${zone}`).toEqual(expected);
        },
      ),
      { numRuns: 100, seed: 20_251_121 },
    );
  });
});
