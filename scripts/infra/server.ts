/**
 * What every started component hands back. Chaos tests and benchmarks use `shutdown`/`start` to
 * take a component away and bring it back on the same port with the same data.
 */
export interface ManagedServer {
  /** True between a successful start and a shutdown. */
  readonly running: boolean;
  /** Stops the process; data and port are kept for `start`. `mode: 'kill'` simulates a crash. */
  shutdown(mode?: 'clean' | 'kill'): Promise<void>;
  /** Starts the process again after `shutdown` and waits until it serves requests. */
  start(): Promise<void>;
  /** `shutdown(mode)` then `start()`. */
  restart(mode?: 'clean' | 'kill'): Promise<void>;
  /** Stops for good and removes the data folder. Safe to call twice. */
  stop(): Promise<void>;
}
