import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, BatonClient, DEFAULT_URL, ServerUnreachableError, stringifyExact } from '@baton/client';
import { UsageError, type CliIo } from './command.js';

/** Exit codes shared by the commands that talk to a server. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

/** Help lines for the options every server command takes. */
export const CONNECTION_HELP = [
  `  --url <url>      Baton's base URL (env BATON_URL, default ${DEFAULT_URL})`,
  '  --token <token>  API token, sent as "Authorization: Bearer <token>" (env BATON_TOKEN)',
  '  --json           print the server\'s JSON answer instead of text',
  '',
  'Exit codes: 0 ok, 1 failed or not found, 2 wrong command line, 3 server unreachable.',
];

const connectionOptions = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

// The HTTP client itself is the public @baton/client package; the CLI's commands import it from here.
export { ApiError, BatonClient, DEFAULT_URL, ServerUnreachableError, stringifyExact, type ApiResponse } from '@baton/client';

let exactParser: ((text: string) => unknown) | undefined;

/**
 * JSON with exact integers (bigint beyond 2^53), parsed by the definitions package's parser
 * (loaded on first use, that module alone: the engine's index would bring its dependencies).
 * Throws on malformed JSON.
 */
export async function parseExact(text: string): Promise<unknown> {
  exactParser ??= (await import('@baton/engine-core/json-text')).parseJsonText;
  return exactParser(text);
}

export interface ConnectionArgs {
  client: BatonClient;
  json: boolean;
}

/**
 * Parses a command line with the connection options added; `--url`/`--token` fall back to
 * BATON_URL/BATON_TOKEN. Wrong options are a UsageError (exit 2).
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], io: CliIo, options: O) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...connectionOptions, ...options }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, unknown>;
  const url = (values.url as string | undefined) ?? io.env.BATON_URL ?? DEFAULT_URL;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`--url "${url}" is not an http(s) URL`);
  }
  const token = (values.token as string | undefined) ?? (io.env.BATON_TOKEN || undefined);
  return { values, positionals: parsed.positionals, conn: { client: new BatonClient(url, token), json: values.json === true } as ConnectionArgs };
}

/** Runs a server command; API and connection failures become one line on stderr and an exit code. */
export async function withServer(io: CliIo, json: boolean, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServerUnreachableError) {
      io.stderr.write(`baton: ${err.message}\n`);
      return EXIT.unreachable;
    }
    if (err instanceof ApiError) {
      if (json && err.problem) io.stdout.write(`${stringifyExact(err.problem)}\n`);
      io.stderr.write(`baton: ${err.message}\n`);
      for (const e of err.problem?.errors ?? []) io.stderr.write(`  ${e.field}: ${e.message}\n`);
      return EXIT.failed;
    }
    throw err;
  }
}

export function enc(segment: string): string {
  return encodeURIComponent(segment);
}

export function requirePositionals(positionals: string[], names: string[], usage: string): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names.slice(positionals.length).join(' ')} (usage: ${usage})`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length]}" (usage: ${usage})`);
  return positionals;
}
