import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, type CliIo, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, requirePositionals, stringifyExact, withServer, type ConnectionArgs } from '../client.js';
import { stepLines, type StepJson } from '../render.js';
import { PAGE_HELP } from '../pages.js';
import { describeWorkflow, listWorkflowsCommand, WORKFLOW_LIST_HELP } from './workflow-list.js';
import { runTriggerAction, TRIGGER_ACTIONS, TRIGGER_ACTIONS_HELP } from './workflow-triggers.js';

const HELP = [
  'Usage: baton workflow <subcommand> [options]',
  '',
  'Subcommands:',
  '  push FILE                     store a definition (JSON, or YAML DSL for .yaml/.yml) as the next version',
  '  validate FILE                 check a definition without storing it; exit 1 when it has problems',
  '  start ID [--version V] [--param name=value ...] [--request-id R]',
  '                                start an instance (V: a number, latest or active; default active);',
  '                                whole-number values are sent as integers, others as strings;',
  '                                the same request id never starts a second instance',
  '  list [filters] [--all]        workflows with versions, owner, tags, triggers and last run',
  '  describe ID [--runs N]        versions, params, triggers, steps and the N recent runs (default 5)',
  '  show ID [--version V]         a version of a workflow (default latest) and its steps',
  '  stop ID IID [--reason TEXT]   stop a running instance',
  '  restart ID IID [--reason TEXT]',
  '                                a new run of a failed, stopped or timed-out instance in which only',
  '                                the steps that did not end well run again',
  ...TRIGGER_ACTIONS_HELP,
  '',
  ...WORKFLOW_LIST_HELP,
  ...PAGE_HELP,
  '',
  'Options:',
  ...CONNECTION_HELP,
].join('\n');

const OPTIONS = {
  version: { type: 'string' },
  param: { type: 'string', multiple: true },
  'request-id': { type: 'string' },
  reason: { type: 'string' },
} as const;

const VERSION = /^(latest|active|[1-9]\d{0,8})$/;

export const workflowCommand: Command = {
  name: 'workflow',
  summary: 'push, validate, start, list, describe, show, stop and restart workflows; pause and activate their triggers',
  help: HELP,
  async run(args, io) {
    if (args[0] === 'list') return listWorkflowsCommand(args.slice(1), io);
    if (args[0] === 'describe') return describeWorkflow(args.slice(1), io);
    if ((TRIGGER_ACTIONS as readonly string[]).includes(args[0] ?? '')) return runTriggerAction(args, io);
    const { values, positionals, conn } = parseCommand(args, io, OPTIONS);
    const [sub, ...rest] = positionals;
    const version = values.version as string | undefined;
    if (version !== undefined && !VERSION.test(version)) throw new UsageError(`--version must be a number, latest or active, got "${version}"`);
    const allow = (names: string[]) => {
      for (const n of ['version', 'param', 'request-id', 'reason']) if (values[n] !== undefined && !names.includes(n)) throw new UsageError(`--${n} does not apply to "workflow ${sub}"`);
    };
    switch (sub) {
      case 'push':
        allow([]);
        return push(io, conn, requirePositionals(rest, ['FILE'], 'baton workflow push FILE')[0]!, false);
      case 'validate':
        allow([]);
        return push(io, conn, requirePositionals(rest, ['FILE'], 'baton workflow validate FILE')[0]!, true);
      case 'start': {
        allow(['version', 'param', 'request-id']);
        const [id] = requirePositionals(rest, ['ID'], 'baton workflow start ID [--version V] [--param k=v ...] [--request-id R]');
        return start(io, conn, id!, version ?? 'active', runParams((values.param as string[] | undefined) ?? []), values['request-id'] as string | undefined);
      }
      case 'show': {
        allow(['version']);
        const [id] = requirePositionals(rest, ['ID'], 'baton workflow show ID [--version V]');
        return show(io, conn, id!, version ?? 'latest');
      }
      case 'stop': {
        allow(['reason']);
        const [id, iid] = requirePositionals(rest, ['ID', 'IID'], 'baton workflow stop ID IID');
        if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
        return stop(io, conn, id!, iid!, values.reason as string | undefined);
      }
      case 'restart': {
        allow(['reason']);
        const [id, iid] = requirePositionals(rest, ['ID', 'IID'], 'baton workflow restart ID IID');
        if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
        return restart(io, conn, id!, iid!, values.reason as string | undefined);
      }
      case undefined:
        throw new UsageError('missing subcommand: push, validate, start, list, describe, show, stop or restart');
      default:
        throw new UsageError(`unknown subcommand "${sub}": expected push, validate, start, list, describe, show, stop or restart`);
    }
  },
};

/** `name=value` pairs; whole numbers become integers (exact), anything else a string. */
export function runParams(pairs: readonly string[]): Record<string, string | bigint> {
  const out: Record<string, string | bigint> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param "${p}" must be name=value`);
    const value = p.slice(eq + 1);
    Object.defineProperty(out, p.slice(0, eq), { value: /^-?\d{1,19}$/.test(value) ? BigInt(value) : value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

async function push(io: CliIo, conn: ConnectionArgs, file: string, validateOnly: boolean): Promise<number> {
  const ext = path.extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) throw new UsageError(`${file}: expected a .json, .yaml or .yml file`);
  let text: string;
  try {
    text = await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch (err) {
    io.stderr.write(`baton: cannot read ${file}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  const yaml = ext !== '.json';
  const base = validateOnly ? '/api/v3/workflows/validate' : '/api/v3/workflows';
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('POST', yaml ? `${base}/yaml` : base, { body: text, contentType: yaml ? 'application/yaml' : 'application/json' });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    const b = res.body as { workflow_id: string; workflow_version_id: number; created: boolean; active_version_id: number | null; valid?: boolean; errors?: Array<{ field: string; message: string }> };
    if (validateOnly) {
      if (!conn.json) {
        if (b.valid) io.stdout.write(`${file}: valid (workflow ${b.workflow_id})\n`);
        else for (const e of b.errors ?? []) io.stdout.write(`${file}: ${e.field}: ${e.message}\n`);
      }
      return b.valid ? EXIT.ok : EXIT.failed;
    }
    if (!conn.json) {
      io.stdout.write(
        `${b.created ? 'created' : 'unchanged:'} ${b.workflow_id} version ${b.workflow_version_id}; active version ${b.active_version_id ?? 'none'}\n`,
      );
    }
    return EXIT.ok;
  });
}

async function start(io: CliIo, conn: ConnectionArgs, id: string, version: string, params: Record<string, string | bigint>, requestId: string | undefined): Promise<number> {
  const body: Record<string, unknown> = {};
  if (requestId) body.request_id = requestId;
  if (Object.keys(params).length > 0) body.run_params = params;
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('POST', `/api/v3/workflows/${enc(id)}/versions/${version}/actions/start`, { body: stringifyExact(body) });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const b = res.body as { workflow_id: string; workflow_version_id: number; workflow_instance_id: number; workflow_run_id: number; status: string; duplicate: boolean };
      io.stdout.write(
        `${b.duplicate ? 'already started' : 'started'} ${b.workflow_id} instance ${b.workflow_instance_id} (version ${b.workflow_version_id}, run ${b.workflow_run_id}): ${b.status}\n`,
      );
    }
    return EXIT.ok;
  });
}

interface ShownVersion {
  workflow_id: string;
  workflow_version_id: number;
  active_version_id: number | null;
  create_time: string;
  definition: { workflow: { name?: string; steps: Array<Record<string, StepJson>> }; properties: Record<string, unknown> };
}

async function show(io: CliIo, conn: ConnectionArgs, id: string, version: string): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(`/api/v3/workflows/${enc(id)}/versions/${version}`);
    if (conn.json) {
      io.stdout.write(`${res.text}\n`);
      return EXIT.ok;
    }
    const b = res.body as ShownVersion;
    const w = b.definition.workflow;
    io.stdout.write(`${b.workflow_id}${w.name ? ` (${w.name})` : ''} version ${b.workflow_version_id}, created ${b.create_time}; active version ${b.active_version_id ?? 'none'}\n`);
    for (const line of stepLines(w.steps)) io.stdout.write(`${line}\n`);
    return EXIT.ok;
  });
}

async function restart(io: CliIo, conn: ConnectionArgs, id: string, iid: string, reason: string | undefined): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('POST', `/api/v3/workflows/${enc(id)}/instances/${iid}/actions/restart`, { body: JSON.stringify(reason ? { reason } : {}) });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const b = res.body as { workflow_run_id: number; carried_over_steps: string[] };
      io.stdout.write(`restarted ${id} instance ${iid} as run ${b.workflow_run_id}; carried over: ${b.carried_over_steps.join(', ') || '(none)'}\n`);
    }
    return EXIT.ok;
  });
}

async function stop(io: CliIo, conn: ConnectionArgs, id: string, iid: string, reason: string | undefined): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('PUT', `/api/v3/workflows/${enc(id)}/instances/${iid}/actions/stop`, { body: JSON.stringify(reason ? { reason } : {}) });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const b = res.body as { stopped: boolean; status: string };
      io.stdout.write(b.stopped ? `stopped ${id} instance ${iid}\n` : `${id} instance ${iid} had already ended: ${b.status}\n`);
    }
    return EXIT.ok;
  });
}
