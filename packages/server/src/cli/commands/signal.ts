import { UsageError, type CliIo, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, parseExact, requirePositionals, stringifyExact, withServer, type ConnectionArgs } from '../client.js';

const HELP = [
  'Usage: baton signal <subcommand> [options]',
  '',
  'Subcommands:',
  '  publish NAME [PARAM ...] [--payload JSON] [--request-id ID]',
  '                        publish a signal; publishing the same instance again is reported as a',
  '                        duplicate and stores nothing. Each PARAM is one of:',
  '                          key=value    a whole number is a LONG (exact 64-bit), anything else',
  '                                       a STRING: n=12 is LONG 12, day=mon is "mon"',
  '                          key==value   always a STRING: hour==00 is "00", not LONG 0',
  "                          key:=JSON    a JSON string or integer as written: hour:='\"00\"', n:=12",
  '  list NAME [--limit N] instances of a signal, newest first',
  '  show NAME SEQ|latest  one instance of a signal',
  '',
  'Options:',
  '  --payload <json>      any JSON carried along with the signal (not matched)',
  '  --request-id <id>     dedupe key (default: a hash of name and params)',
  '  --limit <n>           instances to list, 1..1000 (default 20)',
  ...CONNECTION_HELP,
].join('\n');

const OPTIONS = { payload: { type: 'string' }, 'request-id': { type: 'string' }, limit: { type: 'string' } } as const;

interface Instance {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  params: Record<string, unknown>;
  payload?: unknown;
  create_time: number;
}

export const signalCommand: Command = {
  name: 'signal',
  summary: 'publish, list and show signals',
  help: HELP,
  async run(args, io) {
    const { values, positionals, conn } = parseCommand(args, io, OPTIONS);
    const [sub, ...rest] = positionals;
    const only = (names: string[]) => {
      for (const n of Object.keys(OPTIONS)) if (values[n] !== undefined && !names.includes(n)) throw new UsageError(`--${n} does not apply to "signal ${sub}"`);
    };
    switch (sub) {
      case 'publish': {
        only(['payload', 'request-id']);
        const [name, ...pairs] = rest;
        if (!name) throw new UsageError('missing NAME (usage: baton signal publish NAME [key=value | key==string | key:=JSON ...])');
        const params = await signalParams(pairs);
        let payload: unknown;
        if (values.payload !== undefined) {
          try {
            payload = await parseExact(values.payload as string);
          } catch (err) {
            throw new UsageError(`--payload must be JSON, e.g. '{"rows": 42}': ${(err as Error).message}`);
          }
        }
        return publish(io, conn, name, params, payload, values['request-id'] as string | undefined);
      }
      case 'list': {
        only(['limit']);
        const [name] = requirePositionals(rest, ['NAME'], 'baton signal list NAME');
        const limit = values.limit === undefined ? 20 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
        return list(io, conn, name!, limit);
      }
      case 'show': {
        only([]);
        const [name, seq] = requirePositionals(rest, ['NAME', 'SEQ'], 'baton signal show NAME SEQ|latest');
        if (!/^(latest|\d{1,19})$/.test(seq!)) throw new UsageError(`SEQ must be a seq id or latest, got "${seq}"`);
        return show(io, conn, name!, seq!);
      }
      case undefined:
        throw new UsageError('missing subcommand: publish, list or show');
      default:
        throw new UsageError(`unknown subcommand "${sub}": expected publish, list or show`);
    }
  },
};

/**
 * Typed `key=value` pairs, as httpie spells them: `key=value` (whole numbers are LONG, anything
 * else a string), `key==value` (always a string) and `key:=JSON` (a JSON string or integer). The
 * first `=` separates the key, so values may contain `=`.
 */
export async function signalParams(pairs: readonly string[]): Promise<Record<string, string | bigint | number>> {
  const out: Record<string, string | bigint | number> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const json = eq > 0 && p[eq - 1] === ':';
    const key = p.slice(0, json ? eq - 1 : eq);
    if (eq < 0 || key.length === 0) throw new UsageError(`param "${p}" must be key=value, key==string or key:=JSON`);
    let value: string | bigint | number;
    if (json) value = await jsonParam(key, p.slice(eq + 1));
    else if (p[eq + 1] === '=') value = p.slice(eq + 2);
    else {
      const text = p.slice(eq + 1);
      value = /^-?\d{1,19}$/.test(text) ? BigInt(text) : text;
    }
    // defineProperty: a key named __proto__ is a param like any other.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

async function jsonParam(key: string, text: string): Promise<string | bigint | number> {
  let value: unknown;
  try {
    value = await parseExact(text);
  } catch (err) {
    throw new UsageError(`param ${key}:= must be JSON, e.g. ${key}:='"00"' or ${key}:=12: ${(err as Error).message}`);
  }
  if (typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return value;
  throw new UsageError(`param ${key}:= must be a JSON string or integer (params are STRING or LONG), got ${text}`);
}

function describe(i: Instance): string {
  const params = Object.entries(i.params).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return `${i.name}#${i.seq_id} ${new Date(i.create_time).toISOString()} ${params.join(' ')}`.trimEnd();
}

async function publish(io: CliIo, conn: ConnectionArgs, name: string, params: Record<string, unknown>, payload: unknown, requestId: string | undefined): Promise<number> {
  const body: Record<string, unknown> = { name, params };
  if (payload !== undefined) body.payload = payload;
  if (requestId) body.request_id = requestId;
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('POST', '/api/v3/signals', { body: stringifyExact(body) });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const r = res.body as { name: string; seq_id: number | bigint; instance_id: string; duplicate: boolean };
      io.stdout.write(`${r.duplicate ? 'duplicate of' : 'published'} ${r.name}#${r.seq_id} (instance ${r.instance_id})\n`);
    }
    return EXIT.ok;
  });
}

async function list(io: CliIo, conn: ConnectionArgs, name: string, limit: number): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(`/api/v3/signals/${enc(name)}/instances`, { limit });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const page = res.body as { instances: Instance[]; next_cursor?: string };
      if (page.instances.length === 0) io.stdout.write(`${name}: no instances\n`);
      for (const i of page.instances) io.stdout.write(`${describe(i)}\n`);
      if (page.next_cursor) io.stdout.write(`(more: older instances not shown)\n`);
    }
    return EXIT.ok;
  });
}

async function show(io: CliIo, conn: ConnectionArgs, name: string, seq: string): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(`/api/v3/signals/${enc(name)}/instances/${seq}`);
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else {
      const i = res.body as Instance;
      io.stdout.write(`${describe(i)}\n  instance ${i.instance_id}\n`);
      if (i.payload !== undefined && i.payload !== null) io.stdout.write(`  payload ${stringifyExact(i.payload)}\n`);
    }
    return EXIT.ok;
  });
}
