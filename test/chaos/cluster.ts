import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, repoRoot } from '../../scripts/infra/index.js';

const BIN = path.join(repoRoot, 'packages/server/bin/baton.js');

// Baton processes must not outlive a harness that crashes or is interrupted.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    for (const child of live) child.kill('SIGKILL');
    // Whoever else listens (the infra's own hooks) runs first; then end as the signal asked.
    setImmediate(() => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)));
  });
}

export interface BatonNodeOptions {
  name: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

/** One `baton serve` process on a port of its own; SIGKILL and start again on the same port. */
export class BatonNode {
  readonly name: string;
  private child: ChildProcess | undefined;
  private expectingExit = false;
  /** Exits the harness did not cause (a crash of Baton itself): when, and the exit code or signal. */
  readonly unexpectedExits: string[] = [];
  port = 0;

  constructor(private readonly opts: BatonNodeOptions) {
    this.name = opts.name;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the process runs (it may not answer yet). */
  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Milliseconds each successful start took until /readyz answered 200. */
  readonly startTimes: number[] = [];
  /** Start-ups that failed (exited or not ready in time): when, and why. */
  readonly failedStarts: string[] = [];

  async start(timeoutMs = 90_000): Promise<void> {
    if (this.alive) return;
    if (this.port === 0) this.port = await freePort();
    const log = createWriteStream(this.opts.logFile, { flags: 'a' });
    log.write(`\n=== start ${new Date().toISOString()} ===\n`);
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: repoRoot,
      env: { ...this.opts.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    live.add(child);
    this.expectingExit = false;
    let starting = true;
    child.once('exit', (code, signal) => {
      live.delete(child);
      // Exiting at start-up (say, while the database is down) is documented behaviour, not a crash.
      if (!this.expectingExit && !starting) {
        const what = `${new Date().toISOString()} exit ${code ?? signal}`;
        this.unexpectedExits.push(what);
        log.write(`\n=== ${what}, not caused by the harness ===\n`);
      }
      setTimeout(() => log.end(), 50);
    });
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    try {
      while (Date.now() < deadline) {
        if (!this.alive) throw new Error(`${this.name} exited during start-up (log ${this.opts.logFile}):\n${await this.logTail()}`);
        if (await this.ready()) {
          this.startTimes.push(timeoutMs - (deadline - Date.now()));
          return;
        }
        await sleep(200);
      }
      await this.signal('SIGKILL');
      throw new Error(`${this.name} not ready after ${timeoutMs} ms (log ${this.opts.logFile}):\n${await this.logTail()}`);
    } catch (err) {
      this.failedStarts.push(`${new Date().toISOString()} ${(err as Error).message.split('\n')[0]}`);
      throw err;
    } finally {
      starting = false;
    }
  }

  async ready(): Promise<boolean> {
    try {
      const r = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      return r.status === 200;
    } catch {
      return false;
    }
  }

  /** SIGKILL: no shutdown code runs, in-flight work is left for the other processes. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM, the orderly shutdown at the end of a run. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.expectingExit = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(sig);
    const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(force);
  }

  async logTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.opts.logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log output)';
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
