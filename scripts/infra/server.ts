import { rm } from 'node:fs/promises';
import type { ServerProcess } from './proc.js';

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

export interface ProcessLifecycle {
  /** Shown when `start` is called after `stop`. */
  name: string;
  /** Starts the process and resolves once it serves requests. */
  launch(): Promise<ServerProcess>;
  /** The signal of a clean stop and of a simulated crash, and how long a stop may take. */
  cleanSignal: NodeJS.Signals;
  killSignal: NodeJS.Signals;
  stopGraceMs?: number;
  /** Removed for good by `stop()`. */
  dataDir: string;
}

/** The start/shutdown/restart/stop behaviour every component shares, around its own `launch`. */
export async function manageProcess(l: ProcessLifecycle): Promise<ManagedServer> {
  let proc: ServerProcess | undefined;
  let stopped = false;
  const shutdown = async (mode: 'clean' | 'kill' = 'clean'): Promise<void> => {
    await proc?.stop(mode === 'kill' ? l.killSignal : l.cleanSignal, l.stopGraceMs);
  };
  const start = async (): Promise<void> => {
    if (stopped) throw new Error(`${l.name} was stopped for good; start a new one`);
    if (proc && !proc.exited) return;
    proc = await l.launch();
  };
  await start();
  return {
    get running() {
      return !!proc && !proc.exited;
    },
    shutdown,
    start,
    async restart(mode) {
      await shutdown(mode);
      await start();
    },
    async stop() {
      stopped = true;
      await shutdown('clean');
      await rm(l.dataDir, { recursive: true, force: true });
    },
  };
}
