import type { Db } from '@baton/engine-core';
import type { PublishResult, SignalSource } from '../../model.js';
import { publishInTx, type PublishedHook } from '../../publish.js';
import type { NormalizedSignal } from '../../validate.js';

interface Job {
  signals: NormalizedSignal[];
  sources: SignalSource[];
  resolve(results: PublishResult[]): void;
  reject(err: unknown): void;
}

/** A lane's signals of one chunk and where each sits in the chunk. */
interface Part {
  at: number[];
  signals: NormalizedSignal[];
  sources: SignalSource[];
}

/**
 * Group commit for the partitions one process consumes, over `lanes` concurrent transactions.
 * Every transaction locks the per-name counters of the names it stores, so two transactions
 * holding a name in common only queue behind each other. Each signal name therefore belongs to
 * one lane (by a hash of the name): lanes lock disjoint counter rows and run side by side, and
 * within a lane the chunks that arrive while its transaction runs are stored together in the next
 * one, which saves waits and per-commit cost. A chunk is stored once all its lanes committed; a
 * failure fails every chunk of that transaction (each caller retries its own chunk whole, and the
 * lanes that had committed dedupe the second time).
 */
export class GroupCommitter {
  private readonly lanes: Lane[];

  constructor(
    db: Db,
    /** Signals per transaction at most (a single larger chunk still goes alone). */
    maxSignals: number,
    onPublished?: PublishedHook,
    /** Transactions in flight at most; 1 keeps every chunk in one transaction. */
    lanes = 1,
  ) {
    if (!Number.isInteger(lanes) || lanes < 1) throw new RangeError(`lanes must be a positive integer (got ${lanes})`);
    this.lanes = Array.from({ length: lanes }, () => new Lane(db, maxSignals, onPublished));
  }

  publish(signals: NormalizedSignal[], source: SignalSource | readonly SignalSource[]): Promise<PublishResult[]> {
    const sources = isSourceList(source) ? [...source] : signals.map(() => source);
    if (this.lanes.length === 1) return this.lanes[0]!.publish(signals, sources);
    const parts = new Map<number, Part>();
    signals.forEach((s, i) => {
      const lane = laneOf(s.name, this.lanes.length);
      let part = parts.get(lane);
      if (!part) parts.set(lane, (part = { at: [], signals: [], sources: [] }));
      part.at.push(i);
      part.signals.push(s);
      part.sources.push(sources[i]!);
    });
    // Settle every lane before answering: a failure reported while other lanes still write would
    // let the caller retry the chunk alongside them.
    return Promise.allSettled([...parts].map(([lane, part]) => this.lanes[lane]!.publish(part.signals, part.sources))).then((settled) => {
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const stored = settled.map((r) => (r as PromiseFulfilledResult<PublishResult[]>).value);
      const results: PublishResult[] = new Array(signals.length);
      [...parts.values()].forEach((part, p) => part.at.forEach((i, j) => (results[i] = stored[p]![j]!)));
      return results;
    });
  }
}

/** FNV-1a over the name's UTF-16 units: cheap, and stable across processes and restarts. */
export function laneOf(name: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}

/**
 * One transaction at a time, taking every chunk queued meanwhile (up to maxSignals). Messages are
 * mostly new, so the duplicate check is skipped (publishInTx's assumeNew) until a transaction
 * meets a stored one (a redelivery, a repeated dedupe key), and resumes once one meets none.
 */
class Lane {
  private queue: Job[] = [];
  private busy = false;
  private assumeNew = true;

  constructor(
    private readonly db: Db,
    private readonly maxSignals: number,
    private readonly onPublished?: PublishedHook,
  ) {}

  publish(signals: NormalizedSignal[], sources: SignalSource[]): Promise<PublishResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ signals, sources, resolve, reject });
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
          const sources = jobs.flatMap((j) => j.sources);
          const results = await this.db.tx(async (tx) => {
            const stored = await publishInTx(tx, all, sources, { assumeNew: this.assumeNew });
            await this.onPublished?.(tx, stored, all);
            return stored;
          });
          this.assumeNew = !results.some((r) => r.duplicate);
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
