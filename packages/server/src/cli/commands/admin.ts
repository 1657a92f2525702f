import { UsageError, type CliIo, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, parseCommand, requirePositionals, withServer, type ConnectionArgs } from '../client.js';
import { table } from '../render.js';

const HELP = [
  'Usage: baton admin retention <status|run> [options]',
  '',
  'Signal retention (needs an admin token). Signal instances are stored in one partition per day',
  'of expiry; each name keeps its signals as long as BATON_SIGNAL_RETENTION(_BY_NAME) says, and',
  'the service drops whole expired partitions every BATON_RETENTION_INTERVAL. The same pass',
  'purges finished runs that ended longer ago than BATON_RUN_RETENTION (default forever), with',
  'their restarts, subworkflow children and loop iterations, leaving a tombstone per instance;',
  'their timelines and step logs are kept in weekly partitions, dropped whole once expired.',
  'A signal tombstone goes once every run its lineage leads to is purged.',
  '',
  'Subcommands:',
  '  retention status   the policy, the partitions with their rows and bytes, the size of each',
  '                     signals and run table, the oldest retained signal and run, the last pass',
  '  retention run      run a pass now (create partitions ahead, drop expired ones, purge',
  '                     expired finished runs) and show it',
  '',
  'Options:',
  ...CONNECTION_HELP,
].join('\n');

interface PassJson {
  at: string;
  created: string[];
  dropped: { partition: string; rows: number; kept: number; tombstones: number }[];
  skipped: string[];
  duration_ms: number;
  runs: { runs: number; tombstones: number; attempts: number; kept: number; batches: number; more: boolean } | null;
  run_history: { dropped: { table: string; partition: string; rows: number; kept: number }[]; skipped: string[] } | null;
  tombstones?: { removed: number; edges: number; scanned: number; more: boolean };
  run_signal_rows?: { waiters: number; outputs: number };
}

type PartitionJson = { name: string; from: string | null; to: string | null; is_default: boolean; forever: boolean; rows: number; bytes: number };

interface StatusJson {
  policy: { default_seconds: number | null; names: Record<string, number | null> };
  partitions: PartitionJson[];
  tables: { table: string; rows: number; bytes: number }[];
  oldest_retained: string | null;
  next_expiry: string | null;
  runs: { retention_seconds: number | null; tables: { table: string; rows: number; bytes: number }[]; partitions: (PartitionJson & { table: string })[]; oldest_retained: string | null };
  tombstones?: { rows: number; oldest_purged_at: string | null };
  last_pass: PassJson | null;
  last_error: string | null;
}

/** Seconds as the largest whole unit: 2592000 -> 30d. */
export function retentionText(seconds: number | null): string {
  if (seconds === null) return 'forever';
  for (const [unit, n] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function passLines(p: PassJson): string[] {
  const rows = p.dropped.reduce((n, d) => n + d.rows, 0);
  const lines = [`pass at ${p.at}: ${p.duration_ms} ms, ${p.created.length} partitions created, ${p.dropped.length} dropped (${rows} rows)`];
  for (const d of p.dropped) lines.push(`  dropped ${d.partition}: ${d.rows} rows, ${d.kept} kept (still needed), ${d.tombstones} tombstones`);
  for (const s of p.skipped) lines.push(`  skipped ${s} (table busy; next pass)`);
  const r = p.runs;
  if (r) lines.push(`  runs: ${r.runs} purged (${r.tombstones} instances tombstoned, ${r.attempts} step attempts), ${r.kept} expired kept (family still open)${r.more ? '; more left for the next pass' : ''}`);
  for (const d of p.run_history?.dropped ?? []) lines.push(`  dropped ${d.partition} (run history): ${d.rows} rows, ${d.kept} kept (run still stored)`);
  for (const s of p.run_history?.skipped ?? []) lines.push(`  skipped ${s} (run history; table busy; next pass)`);
  const t = p.tombstones;
  if (t && t.scanned > 0) lines.push(`  signal tombstones: ${t.removed} removed (their runs purged), ${t.edges} lineage edges with them, ${t.scanned} looked at${t.more ? '; more left for the next pass' : ''}`);
  const w = p.run_signal_rows;
  if (w && w.waiters + w.outputs > 0) lines.push(`  purged runs' signal rows: ${w.waiters} step waiters, ${w.outputs} step output records`);
  return lines;
}

function statusLines(s: StatusJson): string[] {
  const names = Object.entries(s.policy.names);
  const lines = [
    `retention: default ${retentionText(s.policy.default_seconds)}${names.length ? `; ${names.map(([n, v]) => `${n} ${retentionText(v)}`).join(', ')}` : ''}`,
    `oldest retained signal: ${s.oldest_retained ?? '-'}`,
    `next expiry: ${s.next_expiry ?? '-'}`,
    `run retention: ${retentionText(s.runs.retention_seconds)}`,
    `oldest retained run (end): ${s.runs.oldest_retained ?? '-'}`,
    `signal tombstones: ${s.tombstones?.rows ?? 0}, oldest purged ${s.tombstones?.oldest_purged_at ?? '-'}`,
    '',
    ...table(['PARTITION', 'FROM', 'TO', 'ROWS', 'BYTES'], [...s.partitions, ...(s.runs.partitions ?? [])].map((p) => [p.name, p.from ?? (p.is_default ? 'DEFAULT' : p.forever ? 'forever' : 'MINVALUE'), p.to ?? '-', String(p.rows), bytesText(p.bytes)])),
    '',
    ...table(['TABLE', 'ROWS', 'BYTES'], [...s.tables, ...s.runs.tables].map((t) => [t.table, String(t.rows), bytesText(t.bytes)])),
    '',
  ];
  if (s.last_pass) lines.push(...passLines(s.last_pass));
  else lines.push('no retention pass by this server yet');
  if (s.last_error) lines.push(`last pass failed: ${s.last_error}`);
  return lines;
}

async function show(io: CliIo, conn: ConnectionArgs, method: 'GET' | 'POST', path: string, lines: (body: never) => string[]): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request(method, path);
    io.stdout.write(conn.json ? `${res.text}\n` : `${lines(res.body as never).join('\n')}\n`);
    return EXIT.ok;
  });
}

export const adminCommand: Command = {
  name: 'admin',
  summary: 'operator commands: signal retention status and passes',
  help: HELP,
  async run(args, io) {
    const { positionals, conn } = parseCommand(args, io, {});
    const [area, sub, ...rest] = positionals;
    if (area !== 'retention') throw new UsageError(area === undefined ? 'missing subcommand: retention' : `unknown subcommand "${area}": expected retention`);
    requirePositionals(rest, [], `baton admin retention ${sub ?? 'status'}`);
    if (sub === 'status') return show(io, conn, 'GET', '/api/v3/admin/retention', statusLines);
    if (sub === 'run') return show(io, conn, 'POST', '/api/v3/admin/retention/run', passLines);
    throw new UsageError(sub === undefined ? 'missing subcommand: retention status or retention run' : `unknown subcommand "retention ${sub}": expected status or run`);
  },
};
