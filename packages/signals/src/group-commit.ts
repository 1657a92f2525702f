import type { Db } from '@baton/engine-core';
import { MAX_BATCH, type PublishResult, type SignalSource } from './model.js';
import { isConcurrentDuplicate, publishInTx, type PublishedHook } from './publish.js';
import type { NormalizedSignal } from './validate.js';

const LARGE_BATCH = MAX_BATCH / 2;

interface Pending {
  signals: NormalizedSignal[];
  source: SignalSource;
  resolve: (r: PublishResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for publishers: requests that arrive while `concurrency` publishing transactions
 * are in flight are stored together in the next one (up to a full batch), so many small
 * publishes cost a few transactions instead of one each, and an idle service adds no delay.
 * Every request still gets its own results; a request that shared a failed transaction is
 * retried alone, so one request's database error never fails another's.
 */
export class GroupCommitter {
  private pending: Pending[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Db,
    private readonly concurrency: number,
    private readonly onCommit: () => void,
    private readonly onPublished?: PublishedHook,
  ) {}

  publish(signals: NormalizedSignal[], source: SignalSource): Promise<PublishResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ signals, source, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    // A large batch spends much of its transaction outside the counter locks (duplicate check,
    // sending 1,000 rows), so large batches may overlap more than small ones, which would only
    // queue on those locks.
    while (this.pending.length > 0 && this.inFlight < (this.pending[0]!.signals.length >= LARGE_BATCH ? this.concurrency * 2 : this.concurrency)) {
      const group: Pending[] = [];
      let size = 0;
      while (this.pending.length > 0 && (group.length === 0 || size + this.pending[0]!.signals.length <= MAX_BATCH)) {
        const p = this.pending.shift()!;
        group.push(p);
        size += p.signals.length;
      }
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** One transaction, run again whole when a concurrent publisher stored one of its instances first. */
  private async store(signals: readonly NormalizedSignal[], source: SignalSource | readonly SignalSource[]): Promise<PublishResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.tx(async (tx) => {
          const results = await publishInTx(tx, signals, source, { savepoint: false });
          await this.onPublished?.(tx, results, signals);
          return results;
        });
      } catch (err) {
        if (!isConcurrentDuplicate(err) || attempt >= 5) throw err;
      }
    }
  }

  private async flush(group: Pending[]): Promise<void> {
    try {
      const signals = group.flatMap((p) => p.signals);
      const sources = group.flatMap((p) => p.signals.map(() => p.source));
      const results = await this.store(signals, sources);
      this.onCommit();
      let at = 0;
      for (const p of group) {
        p.resolve(results.slice(at, at + p.signals.length));
        at += p.signals.length;
      }
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err);
        return;
      }
      for (const p of group) {
        try {
          p.resolve(await this.store(p.signals, p.source));
          this.onCommit();
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}
