import { UsageError, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, requirePositionals, withServer } from '../client.js';
import { STEP_WHY_HELP, stepWhy } from './why-waiting.js';
import { showStep, STEP_DETAIL_HELP, STEP_DETAIL_OPTIONS_HELP, stepLogs } from './step-detail.js';

const ACTIONS = ['resume', 'skip', 'stop', 'kill'] as const;
const PAST = { resume: 'resumed', skip: 'skipped', stop: 'stopped', kill: 'killed' } as const;

const HELP = [
  'Usage: baton step <resume|skip|stop|kill> ID IID STEP [--reason TEXT]',
  ...STEP_DETAIL_HELP,
  '',
  'Acts on the latest attempt of a step of a running workflow instance:',
  '  resume   let the attempt paused at a breakpoint run (only that one)',
  '  skip     end a step that has not ended as SKIPPED; the steps after it run as if it had succeeded',
  '  stop     end it as STOPPED; the instance ends STOPPED',
  '  kill     end it as FATALLY_FAILED (no retry); the instance fails per the step\'s failure mode',
  'A running step is aborted. A step inside a loop is addressed in its iteration: ID is',
  '"<workflow>#<loop step>" and IID the iteration\'s instance id.',
  '',
  'Options:',
  '  --reason <text>  recorded in the step\'s timeline (default e.g. "skipped by request")',
  ...STEP_DETAIL_OPTIONS_HELP,
  ...CONNECTION_HELP,
  '',
  ...STEP_WHY_HELP,
].join('\n');

export const stepCommand: Command = {
  name: 'step',
  summary: 'resume, skip, stop or kill one step of a running instance; show an attempt and its logs; why it waits',
  help: HELP,
  async run(args, io) {
    if (args[0] === 'why') return stepWhy(args.slice(1), io);
    const { values, positionals, conn } = parseCommand(args, io, {
      reason: { type: 'string' },
      attempt: { type: 'string' },
      run: { type: 'string' },
      stream: { type: 'string' },
      follow: { type: 'boolean', default: false },
      interval: { type: 'string' },
    });
    const [action, ...rest] = positionals;
    if (action === 'show' || action === 'logs') {
      const [id, iid, step] = requirePositionals(rest, ['ID', 'IID', 'STEP'], `baton step ${action} ID IID STEP`);
      if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
      if (values.reason !== undefined) throw new UsageError(`--reason does not go with baton step ${action}`);
      if (action === 'show' && (values.stream !== undefined || values.follow || values.interval !== undefined)) {
        throw new UsageError('--stream, --follow and --interval go with baton step logs, not show');
      }
      const detail = {
        id: id!, iid: iid!, step: step!,
        attempt: values.attempt as string | undefined, run: values.run as string | undefined,
        stream: values.stream as string | undefined, follow: values.follow === true, interval: values.interval as string | undefined,
      };
      return withServer(io, conn.json, () => (action === 'show' ? showStep(io, conn, detail) : stepLogs(io, conn, detail)));
    }
    for (const k of ['attempt', 'run', 'stream', 'interval'] as const) if (values[k] !== undefined) throw new UsageError(`--${k} goes with baton step show or logs`);
    if (values.follow) throw new UsageError('--follow goes with baton step logs');
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      throw new UsageError(action === undefined ? `missing action: show, logs, why, ${ACTIONS.join(', ')}` : `unknown action "${action}": expected show, logs, why, ${ACTIONS.join(', ')}`);
    }
    const [id, iid, step] = requirePositionals(rest, ['ID', 'IID', 'STEP'], `baton step ${action} ID IID STEP`);
    if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
    const reason = values.reason as string | undefined;
    return withServer(io, conn.json, async () => {
      const res = await conn.client.request('POST', `/api/v3/workflows/${enc(id!)}/instances/${iid}/steps/${enc(step!)}/actions/${action}`, {
        body: JSON.stringify(reason ? { reason } : {}),
      });
      if (conn.json) io.stdout.write(`${res.text}\n`);
      else {
        const b = res.body as { step_attempt_id: number; status: string };
        const done = PAST[action as (typeof ACTIONS)[number]];
        io.stdout.write(`${done} step ${step} of ${id} instance ${iid} (attempt ${b.step_attempt_id}): ${action === 'resume' ? 'running on' : b.status}\n`);
      }
      return EXIT.ok;
    });
  },
};
