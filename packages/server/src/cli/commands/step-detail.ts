import { UsageError, type CliIo } from '../command.js';
import { EXIT, enc, stringifyExact, type ConnectionArgs } from '../client.js';

/** `baton step show` and `baton step logs`: one attempt's details, and what it printed. */

export const STEP_DETAIL_HELP = [
  'Usage: baton step show ID IID STEP [--attempt N] [--run R]',
  '       baton step logs ID IID STEP [--attempt N] [--run R] [--stream stdout|stderr] [--follow] [--interval MS]',
  '',
  '  show     status, failure reason, start and end times, evaluated params and outputs, the',
  '           timeline, the sizes of the logs and an Http step\'s response (latest attempt and run',
  '           unless given)',
  '  logs     what a Shell step printed: stdout to stdout, stderr to stderr (both unless --stream);',
  '           dropped bytes are marked "[… N bytes dropped …]". --follow prints new output until the',
  '           attempt ends, then exits 0 if it SUCCEEDED and 1 otherwise. With --json: one JSON',
  '           answer per line (each a page with stream, offset, next_offset, text).',
];

export const STEP_DETAIL_OPTIONS_HELP = [
  '  --attempt <n>    show, logs: the attempt number (default the latest)',
  '  --run <r>        show, logs: the run number (default the latest)',
  '  --stream <s>     logs: stdout or stderr only',
  '  --follow         logs: keep printing new output until the attempt ends',
  '  --interval <ms>  logs --follow: how often to ask the server (default 500)',
];

export interface StepDetailArgs {
  id: string;
  iid: string;
  step: string;
  attempt?: string;
  run?: string;
  stream?: string;
  follow: boolean;
  interval?: string;
}

type Typed = Record<string, { type: string; value: unknown }>;

interface AttemptJson {
  workflow_id: string;
  workflow_instance_id: number;
  workflow_run_id: number;
  step_id: string;
  step_attempt_id: number;
  step_type: string | null;
  status: string;
  reason: string | null;
  params?: Typed;
  outputs?: Typed;
  create_time: string;
  start_time: string | null;
  end_time: string | null;
  timeline: Array<{ at: string; from: string | null; to: string | null; message: string }>;
  logs: Array<{ stream: string; total_bytes: number; stored_bytes: number; dropped_bytes: number }>;
  http_response: { method: string; url: string; status_code: number; status_text: string; headers: Record<string, string>; body: string; body_bytes: number; body_truncated: boolean } | null;
}

interface LogPage {
  step_attempt_id: number;
  workflow_run_id: number;
  status: string;
  stream: string;
  next_offset: number;
  total_bytes: number;
  text: string;
  complete: boolean;
}

function number(name: string, raw: string | undefined): string {
  if (raw === undefined) return 'latest';
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw new UsageError(`--${name} must be a whole number from 1, got "${raw}"`);
  return raw;
}

function attemptPath(a: StepDetailArgs, run: string, attempt: string): string {
  return `/api/v3/workflows/${enc(a.id)}/instances/${a.iid}/runs/${run}/steps/${enc(a.step)}/attempts/${attempt}`;
}

export async function showStep(io: CliIo, conn: ConnectionArgs, a: StepDetailArgs): Promise<number> {
  const res = await conn.client.get(attemptPath(a, number('run', a.run), number('attempt', a.attempt)));
  if (conn.json) {
    io.stdout.write(`${res.text}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`${renderAttempt(res.body as AttemptJson).join('\n')}\n`);
  return EXIT.ok;
}

function renderAttempt(s: AttemptJson): string[] {
  const lines = [
    `step ${s.step_id} of ${s.workflow_id} instance ${s.workflow_instance_id} run ${s.workflow_run_id}, attempt ${s.step_attempt_id}${s.step_type ? ` (${s.step_type})` : ''}: ${s.status}`,
  ];
  if (s.reason) lines.push(`  reason:  ${s.reason}`);
  lines.push(`  created: ${s.create_time}`, `  started: ${s.start_time ?? '-'}`, `  ended:   ${s.end_time ?? '-'}`);
  const typed = (title: string, values: Typed | undefined): void => {
    const entries = Object.entries(values ?? {});
    lines.push(`${title}:${entries.length === 0 ? ' none' : ''}`);
    for (const [k, v] of entries) lines.push(`  ${k} = ${stringifyExact(v.value)} (${v.type})`);
  };
  typed('params', s.params);
  typed('outputs', s.outputs);
  const printed = s.logs.filter((l) => l.total_bytes > 0);
  lines.push(
    `logs: ${printed.length === 0 ? 'nothing printed' : printed.map((l) => `${l.stream} ${l.total_bytes} bytes${l.dropped_bytes > 0 ? ` (${l.dropped_bytes} dropped)` : ''}`).join(', ')}`,
  );
  const h = s.http_response;
  if (h) {
    lines.push(`http response: ${h.method} ${h.url} answered ${h.status_code} ${h.status_text}, ${h.body_bytes} bytes${h.body_truncated ? ` (first ${Buffer.byteLength(h.body)} kept)` : ''}`);
    for (const [k, v] of Object.entries(h.headers)) lines.push(`  ${k}: ${v}`);
    if (h.body !== '') lines.push(...h.body.split('\n').map((l) => `  | ${l}`));
  }
  lines.push('timeline:');
  for (const t of s.timeline) {
    const move = t.to ? `${t.from ?? '-'} -> ${t.to}  ` : '';
    lines.push(`  ${t.at}  ${move}${t.message}`);
  }
  return lines;
}

const STREAMS = ['stdout', 'stderr'] as const;
const PASS_STATUSES = new Set(['SUCCEEDED']);

export async function stepLogs(io: CliIo, conn: ConnectionArgs, a: StepDetailArgs): Promise<number> {
  if (a.stream !== undefined && !STREAMS.includes(a.stream as (typeof STREAMS)[number])) throw new UsageError(`--stream must be stdout or stderr, got "${a.stream}"`);
  const interval = a.interval === undefined ? 500 : Number(a.interval);
  if (!Number.isInteger(interval) || interval < 50 || interval > 60_000) throw new UsageError('--interval must be a whole number of milliseconds from 50 to 60000');
  if (a.interval !== undefined && !a.follow) throw new UsageError('--interval goes with --follow');
  const streams = a.stream ? [a.stream as (typeof STREAMS)[number]] : [...STREAMS];
  let run = number('run', a.run);
  let attempt = number('attempt', a.attempt);
  const offsets = new Map<string, number>(streams.map((s) => [s, 0]));
  const done = new Set<string>();
  let status = '';
  for (;;) {
    let progressed = false;
    for (const stream of streams) {
      if (done.has(stream)) continue;
      const res = await conn.client.get(`${attemptPath(a, run, attempt)}/logs`, { stream, offset: offsets.get(stream) });
      const page = res.body as LogPage;
      // Stay on the attempt the first answer named, even if a retry starts meanwhile.
      run = String(page.workflow_run_id);
      attempt = String(page.step_attempt_id);
      status = page.status;
      if (conn.json) io.stdout.write(`${res.text}\n`);
      else if (page.text) (stream === 'stderr' ? io.stderr : io.stdout).write(page.text);
      const moved = page.next_offset > offsets.get(stream)!;
      if (moved) progressed = true;
      offsets.set(stream, page.next_offset);
      // Without --follow: until what is stored now was read (a page that cannot move ends it too).
      if (a.follow ? page.complete : page.next_offset >= page.total_bytes || !moved) done.add(stream);
    }
    if (done.size === streams.length) break;
    if (!progressed) await new Promise((r) => setTimeout(r, interval));
  }
  if (!a.follow) return EXIT.ok;
  if (!conn.json) io.stderr.write(`baton: step ${a.step} attempt ${attempt} ended ${status}\n`);
  return PASS_STATUSES.has(status) ? EXIT.ok : EXIT.failed;
}
