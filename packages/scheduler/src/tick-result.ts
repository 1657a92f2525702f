/** What one scheduler round did, summed over its transactions. */
export interface TickResult {
  claimed: number;
  started: number;
  catchUp: number;
  skipped: number;
  failed: number;
}

export const emptyTick = (): TickResult => ({ claimed: 0, started: 0, catchUp: 0, skipped: 0, failed: 0 });

export function addTick(a: TickResult, b: TickResult): void {
  a.claimed += b.claimed;
  a.started += b.started;
  a.catchUp += b.catchUp;
  a.skipped += b.skipped;
  a.failed += b.failed;
}
