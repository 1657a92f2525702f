/**
 * What crosses the thread boundary between the SEL worker pool and its workers. Everything here is
 * structured-cloneable: SEL values travel as plain data (LONG = bigint, arrays, plain objects for
 * maps, host objects such as DateTime as their text), the same form the engine stores.
 */

/** Handed to a worker at start (`workerData`). */
export interface WorkerInit {
  /** Under tsx: the TypeScript entry the boot file imports after registering tsx. */
  entry?: string;
  /** One Int32 the worker waits on while the main thread answers a `params.*` call. */
  signal: SharedArrayBuffer;
  /** The main thread's answers to `params.*` calls, read synchronously by the worker. */
  replies: MessagePort;
}

/** One evaluation. */
export interface EvalRequest {
  type: 'eval';
  id: number;
  source: string;
  maestro: boolean;
  vars: Record<string, unknown>;
  /** Soft wall-clock limit checked by the interpreter (the pool's hard deadline comes later). */
  timeoutMs: number;
  /** `params.<name>` methods the program may call; each call is answered by the main thread. */
  methods: string[];
}

export interface SelErrorData {
  kind: string;
  message: string;
  line: number;
  column: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'call'; id: number; name: string; args: unknown[] }
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: SelErrorData }
  | { type: 'timeout'; id: number };

export type CallReply = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * An evaluation ran past its wall-clock limit (inline, by the interpreter's clock check, or in a
 * worker, which is then terminated). A deterministic user error: the step or run fails with it.
 */
export class SelWallClockError extends Error {
  constructor(readonly limitMs: number) {
    super(`evaluation exceeded the wall-clock limit of ${limitMs} ms`);
    this.name = 'SelWallClockError';
  }
}

/** The pool's queue is full: too many evaluations are waiting for a worker. */
export class SelPoolFullError extends Error {
  constructor(readonly queueLimit: number) {
    super(`too many SEL evaluations are waiting for a worker (queue limit ${queueLimit}); try again later`);
    this.name = 'SelPoolFullError';
  }
}

/** A worker died while evaluating (out of memory, crash) or could not start. */
export class SelWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelWorkerError';
  }
}

/** True for the interpreter's own wall-clock limit error (`time limit of N ms exceeded`). */
export function isTimeLimitError(e: unknown): boolean {
  const err = e as { kind?: unknown; message?: unknown };
  return err?.kind === 'limit' && typeof err.message === 'string' && err.message.startsWith('time limit of ');
}
