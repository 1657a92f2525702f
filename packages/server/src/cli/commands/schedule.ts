import { UsageError, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT } from '../client.js';
import { LIST_OPTIONS_HELP, runScheduleList } from './trigger-lists.js';

const HELP = [
  'Usage: baton schedule preview --cron <expr> [--timezone <tz>] [--from <ISO-8601>] [--count N] [--json]',
  '       baton schedule list [--workflow ID] [--paused true|false] [--json]',
  '',
  'preview lists the next fire times of a cron in a time zone (with its DST behaviour), without a server.',
  'list shows the time triggers of the server: status (ACTIVE, PAUSED, DISABLED), next fire time in the',
  "trigger's zone (never in the past while active; \"due since\" while paused), last fire time.",
  '',
  'Options of preview:',
  "  --cron       5-field Unix cron, 6/7-field Quartz cron, or @hourly/@daily/@weekly/@monthly/@yearly",
  '  --timezone   IANA time zone (default UTC), e.g. America/New_York',
  '  --from       list fire times strictly after this instant (default now); without an offset it is',
  '               read in --timezone',
  '  --count      how many fire times, 1-1000 (default 10)',
  '  --json       print [{"fire_time": ..., "weekday": ...}] instead of lines',
  '',
  'Options of list:',
  ...LIST_OPTIONS_HELP,
  ...CONNECTION_HELP,
].join('\n');

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'list the time triggers and their next fire times; preview a cron expression',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'list') return runScheduleList(args, io);
    if (sub !== 'preview') throw new UsageError(sub === undefined ? 'missing subcommand: preview or list' : `unknown subcommand "${sub}": expected preview or list`);
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
