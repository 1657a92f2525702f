import { UsageError, type Command } from '../command.js';
import { EXIT } from '../client.js';

const HELP = [
  'Usage: baton schedule preview --cron <expr> [--timezone <tz>] [--from <ISO-8601>] [--count N] [--json]',
  '',
  'Lists the next fire times of a cron in a time zone (with its DST behaviour), without a server.',
  '',
  'Options:',
  "  --cron       5-field Unix cron, 6/7-field Quartz cron, or @hourly/@daily/@weekly/@monthly/@yearly",
  '  --timezone   IANA time zone (default UTC), e.g. America/New_York',
  '  --from       list fire times strictly after this instant (default now); without an offset it is',
  '               read in --timezone',
  '  --count      how many fire times, 1-1000 (default 10)',
  '  --json       print [{"fire_time": ..., "weekday": ...}] instead of lines',
  '',
  'Exit codes: 0 ok, 2 wrong command line or invalid cron.',
].join('\n');

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'preview the fire times of a cron expression',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'preview') throw new UsageError(sub === undefined ? 'missing subcommand: preview' : `unknown subcommand "${sub}": expected preview`);
    const json = rest.includes('--json');
    const argv = rest.filter((a) => a !== '--json');
    const { runPreview } = await import('@baton/scheduler');
    if (!json) return runPreview(argv, io.stdout, io.stderr);
    let out = '';
    const code = await runPreview(argv, { write: (chunk: string) => (out += chunk) }, io.stderr);
    if (code !== EXIT.ok) return code;
    const fires = out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [fire_time, weekday] = line.split(' ');
        return { fire_time, weekday };
      });
    io.stdout.write(`${JSON.stringify(fires)}\n`);
    return EXIT.ok;
  },
};
