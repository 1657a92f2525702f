import type { Db, Queryable } from '../db/db.js';
import { TailBuffer } from '../runtimes/tail-buffer.js';
import type { HttpResponseRecord, LogStream, StepLogs } from './step-runtime.js';
import { completeUtf8Length } from './utf8.js';

/** How much of a step attempt's output is kept, and how soon it is stored. */
export interface StepLogLimits {
  /** Bytes kept per stream and attempt: the first half and the last half of what was printed. */
  maxBytes: number;
  /** Longest time printed output waits in memory before it is written to the database. */
  flushMs: number;
  /** Bytes of an Http step's response body kept with the attempt. */
  httpBodyBytes: number;
}

export const DEFAULT_STEP_LOG_LIMITS: Readonly<StepLogLimits> = { maxBytes: 1024 * 1024, flushMs: 250, httpBodyBytes: 64 * 1024 };

const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/**
 * What a stream printed since the last write to the database, bounded: its first bytes (as many
 * as the stored head still has room for), how many were dropped, and its last bytes.
 */
class Pending {
  readonly head: Buffer[] = [];
  headBytes = 0;
  readonly tail: TailBuffer;

  constructor(
    private readonly headRoom: number,
    tailRoom: number,
  ) {
    this.tail = new TailBuffer(Math.max(1, tailRoom));
  }

  push(chunk: Buffer): void {
    if (this.headBytes < this.headRoom) {
      const take = Math.min(chunk.length, this.headRoom - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) this.tail.push(chunk);
  }

  get bytes(): number {
    return this.headBytes + this.tail.dropped + this.tail.length;
  }
}

/**
 * The engine's `StepLogs` for one attempt. Each stream keeps its head (the first half of the
 * bound) and its tail (the last half); what falls between is dropped, and the reader shows a
 * marker with the number of bytes. Chunks are written every `flushMs`, each flush one
 * transaction that also trims the stored tail to its bound, so the database holds at most
 * `maxBytes` per stream at any moment and a crash loses at most the last `flushMs` of output. Offsets are positions in the stream as printed; they never move.
 */
export class AttemptLogWriter implements StepLogs {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private pending = new Map<LogStream, Pending>();
  /** The stored total of each stream, as last read (0 before the first write). */
  private readonly known = new Map<LogStream, number>();
  /** Bytes lost to a failed write, shown as a gap before the next stored bytes. */
  private readonly lost = new Map<LogStream, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private wrote = false;

  constructor(
    private readonly db: Db,
    private readonly attemptPk: number,
    private readonly limits: StepLogLimits,
    private readonly onError: (err: unknown) => void,
  ) {
    this.headLimit = Math.floor(limits.maxBytes / 2);
    this.tailLimit = limits.maxBytes - this.headLimit;
  }

  write(stream: LogStream, chunk: Buffer): void {
    if (chunk.length === 0) return;
    let p = this.pending.get(stream);
    if (!p) {
      p = new Pending(Math.max(0, this.headLimit - (this.known.get(stream) ?? 0)), this.tailLimit);
      this.pending.set(stream, p);
    }
    p.push(chunk);
    // Memory is bounded by the head and tail kept, so writes wait for the timer however much comes:
    // a command printing fast costs a few writes a second, not one per burst.
    if (!this.inFlight) this.timer ??= setTimeout(() => this.startFlush(), this.limits.flushMs).unref();
  }

  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight) await this.inFlight;
      else if (this.pending.size > 0) this.startFlush();
      else return;
    }
  }

  /** Stores what is left and marks the streams finished (also those an earlier owner left open). */
  async close(resumed: boolean): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    if (!this.wrote && !resumed) return;
    try {
      await this.db.query('UPDATE baton_step_logs SET closed_at = now(), updated_at = now() WHERE attempt_pk = $1 AND closed_at IS NULL', [this.attemptPk]);
    } catch (err) {
      this.onError(err);
    }
  }

  async recordHttpResponse(r: HttpResponseRecord): Promise<void> {
    const cut = r.body.length > this.limits.httpBodyBytes ? r.body.subarray(0, completeUtf8Length(r.body.subarray(0, this.limits.httpBodyBytes))) : r.body;
    try {
      await this.db.query(
        `INSERT INTO baton_step_http_responses (attempt_pk, method, url, status_code, status_text, headers, body, body_bytes, body_truncated)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
         ON CONFLICT (attempt_pk) DO UPDATE SET method = EXCLUDED.method, url = EXCLUDED.url, status_code = EXCLUDED.status_code,
           status_text = EXCLUDED.status_text, headers = EXCLUDED.headers, body = EXCLUDED.body, body_bytes = EXCLUDED.body_bytes,
           body_truncated = EXCLUDED.body_truncated, at = clock_timestamp()`,
        [
          this.attemptPk, r.method, r.url, r.statusCode, r.statusText, JSON.stringify(r.headers),
          // PostgreSQL text cannot hold NUL.
          cut.toString('utf8').replace(/\0/g, '\uFFFD'), r.bodyBytes, r.truncated || cut.length < r.body.length,
        ],
      );
    } catch (err) {
      this.onError(err);
    }
  }

  private startFlush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = this.store(batch).finally(() => {
      this.inFlight = undefined;
      if (this.pending.size > 0) this.timer ??= setTimeout(() => this.startFlush(), this.limits.flushMs).unref();
    });
  }

  private async store(batch: Map<LogStream, Pending>): Promise<void> {
    try {
      await this.db.tx(async (tx) => {
        for (const stream of STREAMS) {
          const p = batch.get(stream);
          if (p) this.known.set(stream, await this.append(tx, stream, p));
        }
      });
      this.wrote = true;
      for (const stream of batch.keys()) this.lost.delete(stream);
    } catch (err) {
      for (const [stream, p] of batch) this.lost.set(stream, (this.lost.get(stream) ?? 0) + p.bytes);
      this.onError(err);
    }
  }

  /** Appends one stream's pending bytes and trims its stored tail; returns the new total. */
  private async append(tx: Queryable, stream: LogStream, p: Pending): Promise<number> {
    const row = (
      await tx.query<{ total_bytes: number | string }>(
        `INSERT INTO baton_step_logs (attempt_pk, stream) VALUES ($1, $2)
         ON CONFLICT (attempt_pk, stream) DO UPDATE SET updated_at = now() RETURNING total_bytes`,
        [this.attemptPk, stream],
      )
    ).rows[0]!;
    const start = Number(row.total_bytes) + (this.lost.get(stream) ?? 0);
    const head = Buffer.concat(p.head);
    const tail = p.tail.bytes();
    // The head may only fill what the stored head has room for; the rest belongs to the tail.
    const room = Math.max(0, this.headLimit - start);
    const chunks: Array<[number, Buffer]> = [
      [start, head.subarray(0, room)],
      [start + room, head.subarray(room)],
      [start + head.length + p.tail.dropped, tail],
    ];
    let inserted = 0;
    for (const [offset, data] of chunks) {
      if (data.length === 0) continue;
      await tx.query('INSERT INTO baton_step_log_chunks (attempt_pk, stream, byte_offset, data) VALUES ($1, $2, $3, $4)', [this.attemptPk, stream, offset, data]);
      inserted += data.length;
    }
    const total = start + p.bytes;
    const removed = await this.trimTail(tx, stream, total - this.tailLimit);
    await tx.query(
      'UPDATE baton_step_logs SET total_bytes = $3, stored_bytes = stored_bytes + $4, updated_at = now() WHERE attempt_pk = $1 AND stream = $2',
      [this.attemptPk, stream, total, inserted - removed],
    );
    return total;
  }

  /** Drops stored tail bytes before `cut` (the head is kept); returns how many were dropped. */
  private async trimTail(tx: Queryable, stream: LogStream, cut: number): Promise<number> {
    if (cut <= this.headLimit) return 0;
    const old = await tx.query<{ byte_offset: number | string; n: number }>(
      `SELECT byte_offset, length(data) AS n FROM baton_step_log_chunks
       WHERE attempt_pk = $1 AND stream = $2 AND byte_offset >= $3 AND byte_offset < $4`,
      [this.attemptPk, stream, this.headLimit, cut],
    );
    let removed = 0;
    for (const c of old.rows) {
      const offset = Number(c.byte_offset);
      if (offset + c.n <= cut) {
        await tx.query('DELETE FROM baton_step_log_chunks WHERE attempt_pk = $1 AND stream = $2 AND byte_offset = $3', [this.attemptPk, stream, offset]);
        removed += c.n;
      } else {
        await tx.query(
          `UPDATE baton_step_log_chunks SET data = substring(data from ($4::bigint - byte_offset + 1)::int), byte_offset = $4
           WHERE attempt_pk = $1 AND stream = $2 AND byte_offset = $3`,
          [this.attemptPk, stream, offset, cut],
        );
        removed += cut - offset;
      }
    }
    return removed;
  }
}
