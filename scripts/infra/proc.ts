import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}

/** Runs a command to completion; the error names the command and carries its output. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      uid: opts.uid,
      gid: opts.gid,
      timeout: opts.timeoutMs ?? 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    const output = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`command failed: ${cmd} ${args.join(' ')}\n${output || e.message}`, { cause: err });
  }
}

/** Resolves to true when `cmd` is found on PATH. */
export async function onPath(cmd: string): Promise<boolean> {
  try {
    await execFileP('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

// Servers still running when this Node process exits (crash, Ctrl-C) would outlive it and hold
// ports and folders; kill them synchronously from the exit path.
const live = new Set<ChildProcess>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const child of live) child.kill('SIGKILL');
      // Keep the default "terminate" behaviour unless someone else handles the signal.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

export interface ServerProcessOptions {
  name: string;
  cmd: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** One long-running child with its output in a log file. */
export class ServerProcess {
  private exitPromise: Promise<number | null>;
  exited = false;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    live.add(child);
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        live.delete(child);
        resolve(code ?? (signal ? -1 : null));
      });
    });
  }

  static start(opts: ServerProcessOptions): ServerProcess {
    installExitHooks();
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    const child = spawn(opts.cmd, opts.args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => setTimeout(() => log.end(), 50));
    // A failed spawn (binary missing) surfaces through the readiness wait and the log.
    child.on('error', (err) => log.write(`\n[spawn error] ${err.message}\n`));
    return new ServerProcess(opts.name, child, opts.logFile);
  }

  async logTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log output)';
    }
  }

  /** Polls `probe` until it resolves true; fails early when the process exits, with its log. */
  async waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(`${this.name} exited during start-up (log: ${this.logFile}):\n${await this.logTail()}`);
      }
      if (await probe().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    await this.stop();
    throw new Error(`${this.name} not ready after ${timeoutMs} ms (log: ${this.logFile}):\n${await this.logTail()}`);
  }

  /** Sends `signal`, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Hard crash: SIGKILL, no clean shutdown (for chaos tests). */
  async kill(): Promise<void> {
    await this.stop('SIGKILL', 0);
  }
}

/** Milliseconds since `start`, formatted for the start-up report. */
export function elapsed(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)} s`;
}
