import type { RunningServer } from './server.js';

/** Longer than any normal request, shorter than the usual 30 s before an orchestrator kills us. */
export const SHUTDOWN_GRACE_MS = 25_000;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Resolves with the exit code once SIGINT or SIGTERM has shut the server down: 0 after a clean
 * close; 1 when the grace period ran out or a second signal demanded an immediate stop.
 */
export function stopOnSignal(server: RunningServer, graceMs: number = SHUTDOWN_GRACE_MS): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        server.logger.warn({ signal }, 'second signal: stopping without waiting for requests');
        resolve(1);
        return;
      }
      stopping = true;
      server.logger.info({ signal, graceMs }, 'shutting down');
      const timer = setTimeout(() => {
        server.logger.error({ graceMs }, 'shutdown grace period ran out with requests still open');
        resolve(1);
      }, graceMs);
      server.close().then(
        () => {
          clearTimeout(timer);
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          server.logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}
