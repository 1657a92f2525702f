import { UsageError, type CliIo } from './command.js';
import { stringifyExact, type ConnectionArgs } from './client.js';

/** The options of every `... list` command that pages through a REST list. */
export const PAGE_OPTIONS = {
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean', default: false },
} as const;

export const PAGE_HELP = [
  '  --limit <n>      rows per page, 1 to 1000 (default 50)',
  '  --cursor <c>     the page after the one that printed this cursor',
  '  --all            follow the pages to the end (with --json: one {"items": [...]} object)',
];

export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

/** `--limit` as a number, checked here so a wrong one is a usage error (exit 2). */
export function pageLimit(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > 1000) throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${String(value)}"`);
  return n;
}

/**
 * GETs `path` with `query` (arrays as repeated parameters), following `next_cursor` when `all`.
 * Prints the rows with `print`, or the JSON: the server's page as sent, or with --all one object
 * holding every row. Without --all, says how to get the next page.
 */
export async function printPages<T>(
  io: CliIo,
  conn: ConnectionArgs,
  path: string,
  query: Record<string, string | readonly string[] | number | undefined>,
  opts: { all: boolean; cursor?: string; again: string; print: (items: T[], first: boolean) => void },
): Promise<void> {
  const all: T[] = [];
  let cursor = opts.cursor;
  for (let first = true; ; first = false) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
    }
    if (cursor !== undefined) params.set('cursor', cursor);
    const qs = params.toString();
    const res = await conn.client.get(`${path}${qs ? `?${qs}` : ''}`);
    const page = res.body as Page<T>;
    if (conn.json && !opts.all) {
      io.stdout.write(`${res.text}\n`);
      return;
    }
    if (conn.json) all.push(...page.items);
    else opts.print(page.items, first);
    cursor = page.next_cursor;
    if (!cursor) break;
    if (!opts.all) {
      io.stdout.write(`more: ${opts.again} --cursor ${cursor}  (or --all)\n`);
      return;
    }
  }
  if (conn.json) io.stdout.write(`${stringifyExact({ items: all })}\n`);
}

/** The command line to repeat for the next page: `args` without --all, --cursor and --token. */
export function againCommand(prefix: string, args: readonly string[]): string {
  const out: string[] = [prefix];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--all' || a.startsWith('--cursor=') || a.startsWith('--token=')) continue;
    if (a === '--cursor' || a === '--token') {
      i++;
      continue;
    }
    out.push(/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  }
  return out.join(' ');
}
