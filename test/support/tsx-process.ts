import { spawn, type ChildProcess } from 'node:child_process';

export interface TsxChild {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process printed a `ready` line, or exited before it did. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a TypeScript file under tsx as a separate OS process, collecting its output. */
export function spawnTsx(script: string, args: readonly string[]): TsxChild {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // A process that dies before it is ready fails its test at `ready` instead of hanging it.
  void exited.then(() => onReady());
  return { child, stdout: () => out, stderr: () => err, ready, exited };
}
