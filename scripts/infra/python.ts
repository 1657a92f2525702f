import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { onPath, run } from './proc.js';

export async function findPython(purpose: string): Promise<string> {
  for (const py of ['python3', 'python']) if (await onPath(py)) return py;
  throw new Error(`Python 3 is needed for ${purpose}: install it (apt-get install python3 python3-venv)`);
}

export interface Venv {
  /** The virtualenv's folder. */
  dir: string;
  /** `bin/<name>` inside it. */
  bin(name: string): string;
  /** True when this call created it (a cold cache). */
  installed: boolean;
}

/**
 * A virtualenv at `dir` with `requirements` installed from PyPI; reused while the pins are
 * unchanged (a stamp file records them), recreated from scratch when they change.
 */
export async function ensureVenv(opts: { dir: string; requirements: readonly string[]; purpose: string; log?: (msg: string) => void; marker?: string }): Promise<Venv> {
  const log = opts.log ?? (() => {});
  const bin = (name: string): string => path.join(opts.dir, 'bin', name);
  const stamp = path.join(opts.dir, '.baton-requirement');
  const wanted = opts.requirements.join(' ');
  const marker = opts.marker ?? 'python';
  if (existsSync(bin(marker)) && existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === wanted) {
    return { dir: opts.dir, bin, installed: false };
  }
  const python = await findPython(opts.purpose);
  await rm(opts.dir, { recursive: true, force: true });
  log(`creating virtualenv ${opts.dir}`);
  await run(python, ['-m', 'venv', opts.dir]).catch((err: unknown) => {
    throw new Error(`could not create a Python virtualenv (on Debian: apt-get install python3-venv): ${(err as Error).message}`, { cause: err });
  });
  log(`pip install ${wanted}`);
  await run(bin('pip'), ['install', '--quiet', '--disable-pip-version-check', ...opts.requirements]);
  await writeFile(stamp, wanted);
  return { dir: opts.dir, bin, installed: true };
}
