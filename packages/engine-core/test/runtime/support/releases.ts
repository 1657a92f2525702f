/** Attempts held until the test releases them by key; an abort of the attempt rejects its wait. */
export class Releases {
  private readonly pending = new Map<string, () => void>();

  /** Resolves on `release(key)`; rejects with the abort reason when `signal` aborts first. */
  async wait(key: string, signal: AbortSignal): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending.set(key, resolve);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    } finally {
      this.pending.delete(key);
    }
  }

  release(key: string): void {
    const r = this.pending.get(key);
    if (!r) throw new Error(`${key} is not running`);
    r();
  }
}
