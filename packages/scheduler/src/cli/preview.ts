import { parseArgs } from 'node:util';
import { TriggerError } from '../cron/errors.js';
import { compileTrigger, formatInZone, nextFireMs, type CompileOptions } from '../cron/trigger.js';
import { resolveZone } from '../cron/zone.js';

export interface Writer {
  write(chunk: string): unknown;
}

const MAX_COUNT = 1000;

export const PREVIEW_USAGE = `usage: baton schedule preview --cron '<expr>' [--timezone <tz>] [--from <ISO-8601>] [--count N]
  --cron       5-field Unix cron, 6/7-field Quartz cron, or @hourly/@daily/@weekly/@monthly/@yearly
  --timezone   IANA time zone (default UTC), e.g. America/New_York or US/Pacific
  --from       list fire times strictly after this instant (default now); needs a date and time,
               with an offset or Z unless it should be read in --timezone
  --count      how many fire times to list, 1-${MAX_COUNT} (default 10)
Prints one fire time per line: ISO-8601 with the zone's offset, then the weekday.
`;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Reads `--from`: an ISO-8601 date-time; without an offset it is wall-clock time in the zone. */
function parseFrom(text: string, timezone: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) throw new Error(`--from "${text}" is not an ISO-8601 date-time such as 2025-03-30T00:00:00Z`);
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  if (hasOffset) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new Error(`--from "${text}" is not a valid date-time`);
    return ms;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(text);
  if (!m) throw new Error(`--from "${text}" is not a valid date-time`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number((frac ?? '0').padEnd(3, '0')));
  // Read the wall time with the zone's offset at (approximately) that moment.
  const zone = resolveZone(timezone);
  const guess = wall - zone.offsetAt(wall) * 60_000;
  return wall - zone.offsetAt(guess) * 60_000;
}

/**
 * `baton schedule preview`: lists the next fire instants of a cron in a time zone, so users can
 * check an expression (and its DST behaviour) before relying on it. Returns the exit code:
 * 0 on success, 2 for bad arguments or an invalid trigger.
 */
export async function runPreview(argv: string[], out: Writer, err: Writer = out, opts: CompileOptions & { now?: () => number } = {}): Promise<number> {
  let values: { cron?: string; timezone?: string; from?: string; count?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        cron: { type: 'string' },
        timezone: { type: 'string' },
        from: { type: 'string' },
        count: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err.write(`error: ${(e as Error).message}\n${PREVIEW_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(PREVIEW_USAGE);
    return 0;
  }
  if (!values.cron) {
    err.write(`error: --cron is required\n${PREVIEW_USAGE}`);
    return 2;
  }
  const count = values.count === undefined ? 10 : Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    err.write(`error: --count must be an integer from 1 to ${MAX_COUNT}, got "${values.count}"\n`);
    return 2;
  }
  try {
    const trigger = compileTrigger({ type: 'CRON', cron: values.cron, timezone: values.timezone }, opts);
    const from = values.from === undefined ? (opts.now ?? Date.now)() : parseFrom(values.from, trigger.timezone);
    const times = nextFireMs(trigger, from, count);
    if (times.length === 0) {
      err.write(`cron "${trigger.expression}" has no fire time after ${new Date(from).toISOString()}\n`);
      return 0;
    }
    for (const t of times) {
      const iso = formatInZone(t, trigger.timezone);
      const wd = WEEKDAYS[new Date(Date.parse(iso.slice(0, 10) + 'T00:00:00Z')).getUTCDay()]!;
      out.write(`${iso} ${wd}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof TriggerError || (e instanceof Error && e.message.startsWith('--from'))) {
      err.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
