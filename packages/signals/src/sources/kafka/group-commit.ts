import type { Db } from '@baton/engine-core';
import type { PublishResult, SignalSource } from '../../model.js';
import { publishInTx, type PublishedHook } from '../../publish.js';
import type { NormalizedSignal } from '../../validate.js';

interface Job {
  signals: NormalizedSignal[];
  /** One source for the chunk, or one per signal. */
  source: SignalSource | readonly SignalSource[];
  resolve(results: PublishResult[]): void;
  reject(err: unknown): void;
}

/**
 * Group commit for the partitions one process consumes: chunks that arrive while a transaction
 * runs are stored together in the next one. Every chunk locks the per-name counters of the
 * names it carries, so concurrent transactions of one process would only queue behind each
 * other; one transaction for all of them saves the waits and the per-commit cost. A failure
 * fails every chunk of that transaction (each caller retries its own).
 */
export class GroupCommitter {
  private queue: Job[] = [];
  private busy = false;

  constructor(
    private readonly db: Db,
    /** Signals per transaction at most (a single larger chunk still goes alone). */
    private readonly maxSignals: number,
    private readonly onPublished?: PublishedHook,
  ) {}

  publish(signals: NormalizedSignal[], source: SignalSource | readonly SignalSource[]): Promise<PublishResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ signals, source, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const jobs: Job[] = [this.queue.shift()!];
        let n = jobs[0]!.signals.length;
        while (this.queue.length > 0 && n + this.queue[0]!.signals.length <= this.maxSignals) {
          const j = this.queue.shift()!;
          n += j.signals.length;
          jobs.push(j);
        }
        try {
          const all = jobs.flatMap((j) => j.signals);
          const sources = jobs.flatMap((j) => (isSourceList(j.source) ? [...j.source] : j.signals.map(() => j.source as SignalSource)));
          const results = await this.db.tx(async (tx) => {
            const stored = await publishInTx(tx, all, sources);
            await this.onPublished?.(tx, stored, all);
            return stored;
          });
          let at = 0;
          for (const j of jobs) {
            j.resolve(results.slice(at, at + j.signals.length));
            at += j.signals.length;
          }
        } catch (err) {
          for (const j of jobs) j.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

function isSourceList(s: SignalSource | readonly SignalSource[]): s is readonly SignalSource[] {
  return Array.isArray(s);
}
