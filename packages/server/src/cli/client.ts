import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type CliIo } from './command.js';

/** Exit codes shared by the commands that talk to a server. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export const DEFAULT_URL = 'http://127.0.0.1:8080';

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

/** The server could not be reached at all (refused, DNS, timeout). */
export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
}

/** The server answered with an error status; `problem` is its problem document when it sent one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: Array<{ field: string; message: string }> } | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiResponse {
  status: number;
  /** The body exactly as sent (64-bit integers intact), for --json. */
  text: string;
  /** The body parsed with exact integers (bigint beyond 2^53). */
  body: unknown;
}

/** A small HTTP client for Baton's REST API. */
export class BatonClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {}

  async request(method: string, path: string, opts: { body?: string; contentType?: string; query?: Record<string, string | number | undefined> } = {}): Promise<ApiResponse> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: opts.body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ServerUnreachableError(`cannot reach ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    const body = text ? await parseExact(text).catch(() => text) : undefined;
    if (res.status >= 400) {
      const problem = body && typeof body === 'object' ? (body as ApiError['problem']) : undefined;
      const detail = problem?.detail ?? (text.slice(0, 200) || res.statusText);
      throw new ApiError(res.status, problem, `${res.status} ${problem?.title ?? res.statusText}: ${detail}`);
    }
    return { status: res.status, text, body };
  }

  get(path: string, query?: Record<string, string | number | undefined>): Promise<ApiResponse> {
    return this.request('GET', path, { query });
  }
}

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

/** JSON text in which bigint values are written as exact numbers. */
export function stringifyExact(value: unknown, indent?: number): string {
  const marks: string[] = [];
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v !== 'bigint') return v;
      marks.push(v.toString());
      return `\u0000big${marks.length - 1}\u0000`;
    },
    indent,
  );
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
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
