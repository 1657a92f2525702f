import type { Queryable } from '../db/db.js';
import { STEP_TERMINAL, type StepStatus } from './status.js';
import type { LogStream } from './step-runtime.js';
import { completeUtf8Length, leadingContinuationBytes } from './utf8.js';

export const LOG_STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** How long after its attempt ended an unfinished log is taken as final (its writer was lost). */
const LOST_WRITER_GRACE_MS = 5000;
/** Chunks read for one page at most (a page also stops at its byte limit). */
const CHUNKS_PER_PAGE = 200;

export interface StepLogSummary {
  stream: LogStream;
  /** Bytes the process printed. */
  totalBytes: number;
  /** Bytes kept (the head and the tail). */
  storedBytes: number;
  droppedBytes: number;
  /** True once the writer stored everything and finished. */
  closed: boolean;
}

/** A piece of a stream, from `offset` to `nextOffset`, as text with a marker for each dropped range. */
export interface StepLogPage extends StepLogSummary {
  offset: number;
  nextOffset: number;
  text: string;
  /** Dropped ranges inside this page, in stream offsets. */
  gaps: Array<{ offset: number; bytes: number }>;
}

export interface StepHttpResponse {
  method: string;
  url: string;
  statusCode: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  bodyBytes: number;
  bodyTruncated: boolean;
  at: Date;
}

/** The attempt a log request is about. */
export interface LogAttempt {
  attemptPk: number;
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  stepType: string | null;
  status: StepStatus;
  endedAt: Date | null;
}

/** The requested offset is past what the stream has. */
export class StepLogOffsetError extends Error {
  override readonly name = 'StepLogOffsetError';
}

/** The marker put in the text where bytes were dropped. */
export function droppedMarker(bytes: number): string {
  return `\n[… ${bytes} bytes dropped …]\n`;
}

/** One attempt of a step (the latest run and attempt when not given). */
export async function findLogAttempt(
  q: Queryable,
  workflowId: string,
  instanceId: number,
  stepId: string,
  opts: { runId?: number; attemptId?: number } = {},
): Promise<LogAttempt | undefined> {
  const r = (
    await q.query<{ id: number; instance_id: number; run_id: number; attempt_id: number; step_type: string | null; status: StepStatus; ended_at: unknown }>(
      `SELECT a.id, i.instance_id, i.run_id, a.attempt_id, a.step_type, a.status, a.ended_at
       FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
       WHERE i.workflow_id = $1 AND i.instance_id = $2 AND a.step_id = $3 AND ($4::int IS NULL OR i.run_id = $4)
         AND ($5::int IS NULL OR a.attempt_id = $5)
       ORDER BY i.run_id DESC, a.attempt_id DESC LIMIT 1`,
      [workflowId, instanceId, stepId, opts.runId ?? null, opts.attemptId ?? null],
    )
  ).rows[0];
  if (!r) return undefined;
  return {
    attemptPk: Number(r.id),
    workflowId,
    instanceId: Number(r.instance_id),
    runId: r.run_id,
    stepId,
    attemptId: r.attempt_id,
    stepType: r.step_type,
    status: r.status,
    endedAt: r.ended_at == null ? null : new Date(r.ended_at as string),
  };
}

/** Both streams' sizes (zero for a stream that printed nothing). */
export async function stepLogSummaries(q: Queryable, attemptPk: number): Promise<StepLogSummary[]> {
  const res = await q.query<{ stream: LogStream; total_bytes: number | string; stored_bytes: number | string; closed_at: unknown }>(
    'SELECT stream, total_bytes, stored_bytes, closed_at FROM baton_step_logs WHERE attempt_pk = $1',
    [attemptPk],
  );
  return LOG_STREAMS.map((stream) => {
    const r = res.rows.find((x) => x.stream === stream);
    return r ? summary(stream, r) : { stream, totalBytes: 0, storedBytes: 0, droppedBytes: 0, closed: true };
  });
}

function summary(stream: LogStream, r: { total_bytes: number | string; stored_bytes: number | string; closed_at: unknown }): StepLogSummary {
  const totalBytes = Number(r.total_bytes);
  const storedBytes = Number(r.stored_bytes);
  return { stream, totalBytes, storedBytes, droppedBytes: totalBytes - storedBytes, closed: r.closed_at != null };
}

/**
 * Up to about `limit` bytes of a stream from `offset` (a position in the stream as printed). The
 * text never ends inside a character (`nextOffset` stops before it), and where bytes were
 * dropped it holds a marker saying how many. A client follows a stream by passing `nextOffset`.
 */
export async function readStepLog(q: Queryable, attemptPk: number, stream: LogStream, offset: number, limit: number): Promise<StepLogPage> {
  const row = (
    await q.query<{ total_bytes: number | string; stored_bytes: number | string; closed_at: unknown }>(
      'SELECT total_bytes, stored_bytes, closed_at FROM baton_step_logs WHERE attempt_pk = $1 AND stream = $2',
      [attemptPk, stream],
    )
  ).rows[0];
  const sum = row ? summary(stream, row) : { stream, totalBytes: 0, storedBytes: 0, droppedBytes: 0, closed: true };
  if (offset > sum.totalBytes) throw new StepLogOffsetError(`offset ${offset} is past the end of ${stream} (${sum.totalBytes} bytes so far)`);
  // The chunk holding `offset` (if kept) and those after it.
  const rows = (
    await q.query<{ byte_offset: number | string; data: Uint8Array }>(
      `SELECT byte_offset, data FROM baton_step_log_chunks
       WHERE attempt_pk = $1 AND stream = $2 AND byte_offset >= COALESCE(
         (SELECT max(byte_offset) FROM baton_step_log_chunks WHERE attempt_pk = $1 AND stream = $2 AND byte_offset <= $3), 0)
       ORDER BY byte_offset LIMIT ${CHUNKS_PER_PAGE}`,
      [attemptPk, stream, offset],
    )
  ).rows;
  // Contiguous runs of kept bytes, at most `limit` bytes in all.
  const runs: Array<{ start: number; bufs: Buffer[]; length: number }> = [];
  let budget = limit;
  for (const c of rows) {
    const start = Number(c.byte_offset);
    const data = Buffer.from(c.data);
    const from = Math.max(start, runs.length ? runs.at(-1)!.start + runs.at(-1)!.length : offset);
    if (start + data.length <= from) continue;
    if (budget <= 0) break;
    const piece = data.subarray(from - start, from - start + budget);
    const last = runs.at(-1);
    if (last && last.start + last.length === from) {
      last.bufs.push(piece);
      last.length += piece.length;
    } else runs.push({ start: from, bufs: [piece], length: piece.length });
    budget -= piece.length;
  }
  const parts: string[] = [];
  const gaps: StepLogPage['gaps'] = [];
  let pos = offset;
  const gap = (to: number): void => {
    gaps.push({ offset: pos, bytes: to - pos });
    parts.push(droppedMarker(to - pos));
    pos = to;
  };
  runs.forEach((run, i) => {
    if (run.start > pos) gap(run.start);
    const buf = Buffer.concat(run.bufs);
    // A run starts where the client asked or after a gap: the rest of a cut character is skipped.
    const skip = leadingContinuationBytes(buf);
    const end = run.start + buf.length;
    // The last run stops before a character whose bytes are not all here yet (or past this page).
    const whole = i < runs.length - 1 || (end === sum.totalBytes && sum.closed);
    const keep = Math.max(skip, whole ? buf.length : completeUtf8Length(buf));
    parts.push(buf.subarray(skip, keep).toString('utf8'));
    pos = run.start + keep;
  });
  // Bytes lost after the last kept chunk (a failed write): the stream's end is a gap.
  if (budget > 0 && rows.length < CHUNKS_PER_PAGE && pos < sum.totalBytes && (runs.length === 0 || pos === runs.at(-1)!.start + runs.at(-1)!.length)) gap(sum.totalBytes);
  return { ...sum, offset, nextOffset: pos, text: parts.join(''), gaps };
}

/** Whether a follower has seen everything: the attempt ended and its log writer finished (or was lost). */
export function logComplete(attempt: LogAttempt, streams: readonly StepLogSummary[], now = Date.now()): boolean {
  if (!STEP_TERMINAL.has(attempt.status)) return false;
  if (streams.every((s) => s.closed)) return true;
  return attempt.endedAt !== null && now - attempt.endedAt.getTime() > LOST_WRITER_GRACE_MS;
}

export async function stepHttpResponse(q: Queryable, attemptPk: number): Promise<StepHttpResponse | null> {
  const r = (
    await q.query<{
      method: string; url: string; status_code: number; status_text: string; headers: Record<string, string>; body: string;
      body_bytes: number | string; body_truncated: boolean; at: unknown;
    }>('SELECT * FROM baton_step_http_responses WHERE attempt_pk = $1', [attemptPk])
  ).rows[0];
  if (!r) return null;
  return {
    method: r.method,
    url: r.url,
    statusCode: r.status_code,
    statusText: r.status_text,
    headers: r.headers,
    body: r.body,
    bodyBytes: Number(r.body_bytes),
    bodyTruncated: r.body_truncated,
    at: new Date(r.at as string),
  };
}

export interface StepLogRead {
  attempt: LogAttempt;
  page: StepLogPage;
  /** True when the attempt ended and the page reaches the end of everything it printed. */
  complete: boolean;
  httpResponse: StepHttpResponse | null;
}

/** A page of one attempt's stream with what a follower needs; undefined when there is no such attempt. */
export async function getStepLog(
  q: Queryable,
  workflowId: string,
  instanceId: number,
  stepId: string,
  opts: { runId?: number; attemptId?: number; stream: LogStream; offset: number; limit: number },
): Promise<StepLogRead | undefined> {
  const attempt = await findLogAttempt(q, workflowId, instanceId, stepId, opts);
  if (!attempt) return undefined;
  // The attempt's status is read first: output stored before it ended is then in the page.
  const page = await readStepLog(q, attempt.attemptPk, opts.stream, opts.offset, opts.limit);
  const streams = await stepLogSummaries(q, attempt.attemptPk);
  const complete = logComplete(attempt, streams) && page.nextOffset >= page.totalBytes;
  return { attempt, page, complete, httpResponse: await stepHttpResponse(q, attempt.attemptPk) };
}
