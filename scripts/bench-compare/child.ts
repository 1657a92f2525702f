/** Runs a child process to its end and hands back its output, its last JSON line and the CPU it used. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU seconds of this process's waited-for children (and theirs), from /proc/self/stat (Linux; 0 elsewhere). */
function childrenCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat (cutime, cstime), counted from after the command name.
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

export interface ChildResult {
  json: unknown;
  wallSeconds: number;
  /** User + system CPU of the child and everything it waited for (clock ticks, 10 ms). */
  cpuSeconds: number;
}

export function runChild(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const cpu0 = childrenCpuSeconds();
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      const cpuSeconds = childrenCpuSeconds() - cpu0;
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`${args.join(' ')} (in ${opts.cwd}) exited ${code}: ${(err || out).slice(-2000)}`));
      try {
        resolve({ json: JSON.parse(last), wallSeconds, cpuSeconds });
      } catch {
        reject(new Error(`${args.join(' ')} (in ${opts.cwd}) printed no JSON last line: ${out.slice(-2000)}`));
      }
    });
  });
}
