import { UsageError, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, requirePositionals, withServer } from '../client.js';

const ACTIONS = ['resume', 'skip', 'stop', 'kill'] as const;
const PAST = { resume: 'resumed', skip: 'skipped', stop: 'stopped', kill: 'killed' } as const;

const HELP = [
  'Usage: baton step <resume|skip|stop|kill> ID IID STEP [--reason TEXT]',
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
  ...CONNECTION_HELP,
].join('\n');

export const stepCommand: Command = {
  name: 'step',
  summary: 'resume, skip, stop or kill one step of a running instance',
  help: HELP,
  async run(args, io) {
    const { values, positionals, conn } = parseCommand(args, io, { reason: { type: 'string' } });
    const [action, ...rest] = positionals;
    if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
      throw new UsageError(action === undefined ? `missing action: ${ACTIONS.join(', ')}` : `unknown action "${action}": expected ${ACTIONS.join(', ')}`);
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
