import { Counter, type Registry } from 'prom-client';
import type { Scheduler } from './scheduler.js';

/**
 * Exposes a scheduler's cumulative counts on a prom-client registry (the server's `/metrics`):
 * fire times started on time and by catch-up, fire times the catch-up policy skipped, and starts
 * that failed and were deferred. Values are read from `scheduler.stats` at scrape time.
 */
export function registerSchedulerMetrics(registry: Registry, scheduler: Scheduler): void {
  const stats = scheduler.stats;
  const counter = (name: string, help: string, read: () => number): void => {
    let reported = 0;
    const c: Counter = new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        if (now > reported) c.inc(now - reported);
        reported = now;
      },
    });
  };
  counter('baton_scheduler_fires_started_total', 'Time-trigger fire times started (on time and catch-up).', () => stats.started);
  counter('baton_scheduler_fires_catch_up_total', 'Missed fire times started late by the catch-up policy.', () => stats.catchUp);
  counter('baton_scheduler_fires_skipped_total', 'Missed fire times the catch-up policy did not start.', () => stats.skipped);
  counter('baton_scheduler_start_failures_total', 'Starts that failed and were retried later.', () => stats.failed);
}
