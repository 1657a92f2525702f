import { UsageError, type CliIo, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, requirePositionals, stringifyExact, withServer, type ConnectionArgs } from '../client.js';
import { runLines } from '../render.js';
import { INSTANCE_LIST_HELP, listInstancesCommand } from './instance-list.js';

const HELP = [
  'Usage: baton instance status ID IID [--watch] [--interval MS]',
  '       baton instance kill ID IID [--reason TEXT]',
  ...INSTANCE_LIST_HELP,
  '',
  'status  shows the status of a workflow instance (its latest run) and of each step.',
  'kill    ends the instance FAILED, as Maestro\'s kill does: its steps that have not ended end',
  '        FATALLY_FAILED (running ones are aborted), loop iterations and subworkflows below are',
  '        killed too, and the run strategy takes it as a failure (STRICT_SEQUENTIAL blocks).',
  '        To end it STOPPED instead: baton workflow stop ID IID.',
  '',
  'Options:',
  '  --watch          follow the run until it ends, in the layout of status: on a terminal redrawn in place,',
  '                   otherwise printed again after each change; exits 0 when the run SUCCEEDED, 1 otherwise',
  '  --interval <ms>  how often --watch asks the server (default 500)',
  '  --reason <text>  kill: recorded as the instance\'s and its steps\' reason (default "killed by request")',
  ...CONNECTION_HELP,
].join('\n');

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT']);

interface Run {
  workflow_id: string;
  workflow_instance_id: number;
  workflow_run_id: number;
  status: string;
  reason: string | null;
  steps: Array<{ step_id: string; status: string; reason: string | null }>;
}

export const instanceCommand: Command = {
  name: 'instance',
  summary: 'list instances, show or watch the status of one, or kill it',
  help: HELP,
  async run(args, io) {
    if (args[0] === 'list') return listInstancesCommand(args.slice(1), io);
    const { values, positionals, conn } = parseCommand(args, io, { watch: { type: 'boolean', default: false }, interval: { type: 'string' }, reason: { type: 'string' } });
    const [sub, ...rest] = positionals;
    if (sub !== 'status' && sub !== 'kill') throw new UsageError(sub === undefined ? 'missing subcommand: list, status or kill' : `unknown subcommand "${sub}": expected list, status or kill`);
    const [id, iid] = requirePositionals(rest, ['ID', 'IID'], sub === 'kill' ? 'baton instance kill ID IID [--reason TEXT]' : 'baton instance status ID IID [--watch]');
    if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
    if (sub === 'kill') {
      if (values.watch || values.interval !== undefined) throw new UsageError('--watch and --interval go with baton instance status, not kill');
      return kill(io, conn, id!, iid!, values.reason as string | undefined);
    }
    if (values.reason !== undefined) throw new UsageError('--reason goes with baton instance kill, not status');
    const interval = values.interval === undefined ? 500 : Number(values.interval);
    if (!Number.isInteger(interval) || interval < 50 || interval > 60_000) throw new UsageError('--interval must be a whole number of milliseconds from 50 to 60000');
    return withServer(io, conn.json, () => (values.watch ? watch(io, conn, id!, iid!, interval) : once(io, conn, id!, iid!)));
  },
};

async function kill(io: CliIo, conn: ConnectionArgs, id: string, iid: string, reason: string | undefined): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('PUT', `/api/v3/workflows/${enc(id)}/instances/${iid}/actions/kill`, { body: JSON.stringify(reason ? { reason } : {}) });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const b = res.body as { killed: boolean; status: string };
      io.stdout.write(b.killed ? `killed ${id} instance ${iid}: ${b.status}\n` : `${id} instance ${iid} had already ended: ${b.status}\n`);
    }
    return EXIT.ok;
  });
}

async function fetchRun(conn: ConnectionArgs, id: string, iid: string): Promise<{ run: Run; text: string }> {
  const res = await conn.client.get(`/api/v3/workflows/${enc(id)}/instances/${iid}/runs/latest`);
  return { run: res.body as Run, text: res.text };
}

async function once(io: CliIo, conn: ConnectionArgs, id: string, iid: string): Promise<number> {
  const { run, text } = await fetchRun(conn, id, iid);
  io.stdout.write(conn.json ? `${text}\n` : runLines(run).join('\n') + '\n');
  return EXIT.ok;
}

async function watch(io: CliIo, conn: ConnectionArgs, id: string, iid: string, interval: number): Promise<number> {
  const tty = (io.stdout as NodeJS.WriteStream).isTTY === true && !conn.json;
  let drawn = 0;
  let seen = '';
  for (;;) {
    const { run } = await fetchRun(conn, id, iid);
    if (tty) {
      const lines = runLines(run);
      // Move up over the previous drawing and clear it, then draw again.
      if (drawn > 0) io.stdout.write(`\u001b[${drawn}F\u001b[0J`);
      io.stdout.write(lines.join('\n') + '\n');
      drawn = lines.length;
    } else {
      // Piped or --json: the same output as `status`, printed again whenever a status changed.
      const key = `${run.status}|${run.steps.map((s) => s.status).join(',')}`;
      if (key !== seen) io.stdout.write(conn.json ? `${stringifyExact(run)}\n` : `${runLines(run).join('\n')}\n`);
      seen = key;
    }
    if (TERMINAL.has(run.status)) return run.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
    await new Promise((r) => setTimeout(r, interval));
  }
}
