import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const batonBin = path.join(repoRoot, 'packages/server/bin/baton.js');

export interface BatonProcess {
  child: ChildProcess;
  startedAt: number;
  /** Every JSON log line written so far. */
  logs: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolves with the URL from the "server ready" log line; rejects if the process exits first. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node packages/server/bin/baton.js <args>` with only the given settings in its environment. */
export function spawnBaton(env: Record<string, string>, args: string[] = ['serve']): BatonProcess {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [batonBin, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let err = '';
  let pending = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          reject(new Error(`non-JSON line on stdout: ${line}`));
          continue;
        }
        logs.push(entry);
        if (entry.msg === 'server ready') resolve(String(entry.url));
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`baton exited (code ${code}, signal ${signal}) before ready; stderr: ${err}`)));
  });
  // A test may never look at `ready` (bad configuration cases).
  ready.catch(() => {});
  return { child, startedAt, logs, stderr: () => err, ready, exited };
}

/** Polls /readyz until it answers 200; returns milliseconds since the process was spawned. */
export async function waitUntilReady(proc: BatonProcess, timeoutMs = 60_000): Promise<number> {
  const url = await Promise.race([proc.ready, sleep(timeoutMs).then(() => Promise.reject(new Error('no "server ready" log line in time')))]);
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return performance.now() - proc.startedAt;
    await sleep(20);
  }
  throw new Error(`${url}/readyz did not answer 200 within ${timeoutMs} ms`);
}

export async function stop(proc: BatonProcess): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await proc.exited;
}

export async function tempDir(prefix = 'baton-server-test-'): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
