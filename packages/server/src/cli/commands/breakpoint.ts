import { UsageError, type CliIo, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, requirePositionals, withServer, type ConnectionArgs } from '../client.js';

const HELP = [
  'Usage: baton breakpoint <set|delete|list> ID [STEP] [options]',
  '',
  'A breakpoint pauses each attempt of a step (loop iterations included) before it runs, until',
  'it is resumed (baton step resume) or the breakpoint is deleted, which resumes all it paused.',
  '',
  'Subcommands:',
  '  set ID STEP [--instance IID] [--run R] [--version V] [--attempt A]',
  '                    set a breakpoint, optionally only for one instance, run, version or attempt',
  '  delete ID STEP [--instance IID] [--run R] [--version V] [--attempt A]',
  '                    delete the step\'s breakpoints (with options: only the one with that scope)',
  '                    and resume the attempts they paused',
  '  list ID           the workflow\'s breakpoints and how many attempts each holds',
  '',
  'Options:',
  ...CONNECTION_HELP,
].join('\n');

const SCOPE = { instance: 'workflow_instance_id', run: 'workflow_run_id', version: 'workflow_version_id', attempt: 'step_attempt_id' } as const;

interface BreakpointJson {
  step_id: string;
  workflow_version_id?: number;
  workflow_instance_id?: number;
  workflow_run_id?: number;
  step_attempt_id?: number;
  paused_attempts: number;
}

export const breakpointCommand: Command = {
  name: 'breakpoint',
  summary: 'set, delete and list step breakpoints',
  help: HELP,
  async run(args, io) {
    const { values, positionals, conn } = parseCommand(args, io, {
      instance: { type: 'string' },
      run: { type: 'string' },
      version: { type: 'string' },
      attempt: { type: 'string' },
    });
    const [sub, ...rest] = positionals;
    const scope: Record<string, number> = {};
    for (const [opt, field] of Object.entries(SCOPE)) {
      const v = values[opt] as string | undefined;
      if (v === undefined) continue;
      if (sub === 'list') throw new UsageError(`--${opt} does not apply to "breakpoint list"`);
      if (!/^[1-9]\d{0,15}$/.test(v)) throw new UsageError(`--${opt} must be a positive whole number, got "${v}"`);
      scope[field] = Number(v);
    }
    switch (sub) {
      case 'set': {
        const [id, step] = requirePositionals(rest, ['ID', 'STEP'], 'baton breakpoint set ID STEP');
        return withServer(io, conn.json, async () => {
          const res = await conn.client.request('PUT', `/api/v3/workflows/${enc(id!)}/steps/${enc(step!)}/breakpoint`, { body: JSON.stringify(scope) });
          if (conn.json) io.stdout.write(`${res.text}\n`);
          else {
            const b = res.body as { created: boolean; breakpoint: BreakpointJson };
            io.stdout.write(`${b.created ? 'set' : 'already set:'} breakpoint on ${id} step ${step}${describe(b.breakpoint)}\n`);
          }
          return EXIT.ok;
        });
      }
      case 'delete': {
        const [id, step] = requirePositionals(rest, ['ID', 'STEP'], 'baton breakpoint delete ID STEP');
        return withServer(io, conn.json, async () => {
          const res = await conn.client.request('DELETE', `/api/v3/workflows/${enc(id!)}/steps/${enc(step!)}/breakpoint`, { query: scope });
          if (conn.json) io.stdout.write(`${res.text}\n`);
          else {
            const b = res.body as { deleted: number; resumed_attempts: number };
            io.stdout.write(`deleted ${b.deleted} breakpoint${b.deleted === 1 ? '' : 's'} on ${id} step ${step}; resumed ${b.resumed_attempts} paused attempt${b.resumed_attempts === 1 ? '' : 's'}\n`);
          }
          return EXIT.ok;
        });
      }
      case 'list': {
        const [id] = requirePositionals(rest, ['ID'], 'baton breakpoint list ID');
        return withServer(io, conn.json, () => list(io, conn, id!));
      }
      case undefined:
        throw new UsageError('missing subcommand: set, delete or list');
      default:
        throw new UsageError(`unknown subcommand "${sub}": expected set, delete or list`);
    }
  },
};

async function list(io: CliIo, conn: ConnectionArgs, id: string): Promise<number> {
  const res = await conn.client.get(`/api/v3/workflows/${enc(id)}/breakpoints`);
  if (conn.json) {
    io.stdout.write(`${res.text}\n`);
    return EXIT.ok;
  }
  const items = (res.body as { breakpoints: BreakpointJson[] }).breakpoints;
  if (items.length === 0) io.stdout.write(`${id} has no breakpoints\n`);
  for (const b of items) io.stdout.write(`${b.step_id}${describe(b)}: ${b.paused_attempts} paused\n`);
  return EXIT.ok;
}

function describe(b: BreakpointJson): string {
  const parts = [
    b.workflow_version_id !== undefined && `version ${b.workflow_version_id}`,
    b.workflow_instance_id !== undefined && `instance ${b.workflow_instance_id}`,
    b.workflow_run_id !== undefined && `run ${b.workflow_run_id}`,
    b.step_attempt_id !== undefined && `attempt ${b.step_attempt_id}`,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
