import type { PublishResult, SignalSource } from './model.js';

/** How a firing ended: a run started, the trigger's condition said no, or its dedupe key was taken. */
export type FiringOutcome = 'STARTED' | 'CONDITION_FALSE' | 'DEDUPED';

/**
 * Cumulative counts of one process's signal service, read by the metrics endpoint. Every count is
 * taken after the transaction that stored the work committed, so a rolled-back and retried batch
 * is never counted twice.
 */
export class SignalStats {
  /** New signal instances stored, by source (`rest`, `cloudevents`, `step_output`, ...). */
  readonly stored = new Map<string, number>();
  /** Publishes whose signal existed already (same request id, or same name and params), by source. */
  readonly duplicates = new Map<string, number>();
  /** Trigger firings recorded, by outcome. */
  readonly firings = new Map<FiringOutcome, number>();
  /** Firings whose workflow start failed; their joins stay and are retried by the sweep. */
  startFailures = 0;

  /** Counts a committed publish's results under its source. */
  recordPublished(source: SignalSource, results: readonly PublishResult[]): void {
    const label = sourceLabel(source);
    let fresh = 0;
    let dup = 0;
    for (const r of results) {
      if (r.duplicate) dup++;
      else fresh++;
    }
    if (fresh > 0) this.stored.set(label, (this.stored.get(label) ?? 0) + fresh);
    if (dup > 0) this.duplicates.set(label, (this.duplicates.get(label) ?? 0) + dup);
  }

  recordFirings(outcomes: readonly FiringOutcome[]): void {
    for (const o of outcomes) this.firings.set(o, (this.firings.get(o) ?? 0) + 1);
  }
}

/** The metric label of a source: its type in lower case; CloudEvents over HTTP count apart from plain REST. */
export function sourceLabel(source: SignalSource): string {
  if (source.type === 'REST' && source['envelope'] === 'cloudevents') return 'cloudevents';
  return source.type.toLowerCase();
}
