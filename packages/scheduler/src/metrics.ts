import { Counter, Histogram, type Registry } from 'prom-client';
import type { Scheduler } from './scheduler.js';

/** From 10 ms (a timer firing on time) to an hour (catch-up after downtime). */
const DELAY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/**
 * Exposes a scheduler's cumulative counts on a prom-client registry (the server's `/metrics`):
 * fire times started on time and by catch-up, fire times the catch-up policy skipped, and starts
 * that failed and were deferred. Values are read from `scheduler.stats` at scrape time. The delay
 * histogram observes, per run started, how long after its due time the run was created.
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
  const delay = new Histogram({
    name: 'baton_scheduler_delay_seconds',
    help: 'Time from a time trigger fire time (plus its fuzzy delay) to the committed creation of its run.',
    buckets: DELAY_BUCKETS,
    registers: [registry],
  });
  scheduler.onFiresStarted((delaysMs) => {
    for (const ms of delaysMs) delay.observe(ms / 1000);
  });
}
