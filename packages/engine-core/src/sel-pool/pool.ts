import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { SelError, type SelErrorKind } from '@baton/sel';
import { SelPoolFullError, SelWallClockError, SelWorkerError, type CallReply, type EvalRequest, type WorkerInit, type WorkerMessage } from './protocol.js';

export interface SelPoolOptions {
  /** Worker threads (default: the cores, at least 2 and at most 4). */
  workers?: number;
  /** Evaluations that may wait for a worker; more are refused with SelPoolFullError (default 1000). */
  queueLimit?: number;
  /**
   * Added to an evaluation's wall-clock limit before its worker is terminated (default 250 ms):
   * the interpreter's own clock check usually ends a long loop first, keeping the worker.
   */
  graceMs?: number;
  /** Heap limit of each worker, in MB (default 512). */
  maxHeapMb?: number;
}

/** One evaluation for a worker: the program, its variables, and how to answer its `params.*` calls. */
export interface PoolJob {
  source: string;
  maestro: boolean;
  vars: Record<string, unknown>;
  timeoutMs: number;
  methods: string[];
  /** Answers `params.<name>(...args)` on the main thread (synchronously, from loaded data). */
  call(name: string, args: unknown[]): unknown;
}

interface Pending {
  id: number;
  job: PoolJob;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  signal: Int32Array;
  replies: MessagePort;
  ready: boolean;
  current?: Pending;
}

export const DEFAULT_SEL_WORKERS = Math.max(2, Math.min(4, availableParallelism()));
export const DEFAULT_SEL_QUEUE_LIMIT = 1000;

/**
 * Resolved at run time next to this file: `sel-worker.js` when built (a bundle must emit it as
 * its own entry next to the code of this module), else the TypeScript source started through
 * `worker-boot.mjs`, which registers tsx in the worker first.
 */
function workerEntry(): { url: URL; entry?: string } {
  // import.meta.resolve, not import.meta.url: the build rewrites the latter to name the source
  // file, while the built worker sits beside the bundle's own chunks (scripts/build.js emits it).
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  const built = new URL(typeof resolve === 'function' ? resolve('./sel-worker.js') : new URL('./sel-worker.js', import.meta.url).href);
  if (built.protocol === 'file:' && existsSync(fileURLToPath(built))) return { url: built };
  return { url: new URL('./worker-boot.mjs', import.meta.url), entry: new URL('./sel-worker.ts', import.meta.url).href };
}

/**
 * A pool of worker threads that evaluate SEL programs with a hard deadline: a program still
 * running `timeoutMs + graceMs` after it reached its worker has that worker terminated and
 * replaced, so nothing a program does can hold the main thread's event loop. Workers start on
 * first use; idle workers do not keep the process alive.
 */
export class SelWorkerPool {
  private readonly size: number;
  private readonly queueLimit: number;
  private readonly graceMs: number;
  private readonly maxHeapMb: number;
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  /** Consecutive workers that failed before they were ready; stops respawning in a loop. */
  private startFailures = 0;

  constructor(opts: SelPoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? DEFAULT_SEL_WORKERS);
    this.queueLimit = Math.max(0, opts.queueLimit ?? DEFAULT_SEL_QUEUE_LIMIT);
    this.graceMs = opts.graceMs ?? 250;
    this.maxHeapMb = opts.maxHeapMb ?? 512;
  }

  /** Evaluates in a worker; resolves with the plain result, rejects with a SelError, SelWallClockError, SelPoolFullError or SelWorkerError. */
  run(job: PoolJob): Promise<unknown> {
    if (this.queue.length >= this.queueLimit && !this.idleSlot()) return Promise.reject(new SelPoolFullError(this.queueLimit));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.pump();
    });
  }

  /** Workers running or starting, and evaluations waiting (for metrics and tests). */
  stats(): { workers: number; busy: number; queued: number } {
    let busy = 0;
    for (const s of this.slots) if (s.current) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  /** Terminates every worker; waiting and running evaluations are rejected. A later `run` starts new workers. */
  async close(): Promise<void> {
    const err = new SelWorkerError('the SEL worker pool was closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    const all = [...this.slots];
    this.slots.clear();
    for (const s of all) {
      const p = s.current;
      if (p?.timer) clearTimeout(p.timer);
      s.current = undefined;
      p?.reject(err);
    }
    await Promise.all(all.map((s) => s.worker.terminate()));
  }

  private idleSlot(): Slot | undefined {
    for (const s of this.slots) if (s.ready && !s.current) return s;
    return undefined;
  }

  private spawn(): void {
    const { url, entry } = workerEntry();
    const signal = new SharedArrayBuffer(4);
    const channel = new MessageChannel();
    const init: WorkerInit = { entry, signal, replies: channel.port2 };
    const worker = new Worker(url, {
      workerData: init,
      transferList: [channel.port2],
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    channel.port1.unref();
    const slot: Slot = { worker, signal: new Int32Array(signal), replies: channel.port1, ready: false };
    this.slots.add(slot);
    worker.on('message', (msg: WorkerMessage) => this.onMessage(slot, msg));
    worker.on('error', (err: Error) => this.onGone(slot, `the SEL worker failed: ${err.message}`));
    worker.on('exit', (code) => this.onGone(slot, `the SEL worker stopped (exit code ${code})`));
  }

  private onMessage(slot: Slot, msg: WorkerMessage): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      this.pump();
      return;
    }
    const p = slot.current;
    if (!p || msg.id !== p.id) return;
    switch (msg.type) {
      case 'call':
        this.answer(slot, p, msg.name, msg.args);
        return;
      case 'done':
        this.settle(slot, () => p.resolve(msg.value));
        return;
      case 'failed':
        this.settle(slot, () => p.reject(new SelError(msg.error.kind as SelErrorKind, msg.error.message, msg.error.line, msg.error.column)));
        return;
      case 'timeout':
        this.settle(slot, () => p.reject(new SelWallClockError(p.job.timeoutMs)));
        return;
    }
  }

  /** Answers a `params.*` call and wakes the worker waiting for it. */
  private answer(slot: Slot, p: Pending, name: string, args: unknown[]): void {
    let reply: CallReply;
    try {
      reply = { ok: true, value: p.job.call(name, args) ?? null };
    } catch (e) {
      reply = { ok: false, message: (e as Error)?.message ?? String(e) };
    }
    try {
      slot.replies.postMessage(reply);
    } catch (e) {
      slot.replies.postMessage({ ok: false, message: `params.${name}: its result cannot be passed to SEL (${(e as Error).message})` } satisfies CallReply);
    }
    Atomics.store(slot.signal, 0, 1);
    Atomics.notify(slot.signal, 0);
  }

  private settle(slot: Slot, done: () => void): void {
    const p = slot.current;
    if (p?.timer) clearTimeout(p.timer);
    slot.current = undefined;
    slot.worker.unref();
    done();
    this.pump();
  }

  private onGone(slot: Slot, why: string): void {
    if (!this.slots.delete(slot)) return;
    void slot.worker.terminate();
    const p = slot.current;
    if (p) {
      if (p.timer) clearTimeout(p.timer);
      slot.current = undefined;
      p.reject(new SelWorkerError(why));
    }
    if (!slot.ready && ++this.startFailures >= 3) {
      // The entry cannot start (a broken build): fail what waits instead of respawning forever.
      for (const q of this.queue.splice(0)) q.reject(new SelWorkerError(why));
      this.startFailures = 0;
      return;
    }
    this.pump();
  }

  /**
   * Starts one more worker when evaluations wait, none is idle or starting, and the pool is not
   * full: one at a time, so starting workers (compiling the interpreter) never crowd the cores
   * the main thread needs.
   */
  private grow(): void {
    if (this.queue.length === 0 || this.slots.size >= this.size) return;
    for (const s of this.slots) if (!s.ready || !s.current) return;
    this.spawn();
  }

  /** Hands waiting evaluations to idle workers and arms their hard deadlines. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (!slot) break;
      const p = this.queue.shift()!;
      slot.current = p;
      slot.worker.ref();
      if (p.job.timeoutMs > 0) p.timer = setTimeout(() => this.deadline(slot, p), p.job.timeoutMs + this.graceMs);
      const req: EvalRequest = { type: 'eval', id: p.id, source: p.job.source, maestro: p.job.maestro, vars: p.job.vars, timeoutMs: p.job.timeoutMs, methods: p.job.methods };
      try {
        slot.worker.postMessage(req);
      } catch (e) {
        this.settle(slot, () => p.reject(new SelWorkerError(`the program's variables cannot be passed to a SEL worker: ${(e as Error).message}`)));
      }
    }
    this.grow();
  }

  /** The hard deadline: terminate the worker running `p` and start a replacement. */
  private deadline(slot: Slot, p: Pending): void {
    if (slot.current !== p) return;
    slot.current = undefined;
    this.slots.delete(slot);
    void slot.worker.terminate();
    p.reject(new SelWallClockError(p.job.timeoutMs));
    this.pump();
  }
}
