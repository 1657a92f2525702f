import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Everything downloaded or generated for test infrastructure lives here (git-ignored). */
export const cacheRoot = process.env.BATON_CACHE_DIR ? path.resolve(process.env.BATON_CACHE_DIR) : path.join(repoRoot, '.cache');

export function cachePath(...parts: string[]): string {
  return path.join(cacheRoot, ...parts);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A fresh folder for one running server, named after the owning Node process so that folders
 * left behind by a crashed run (owner gone) are swept the next time any run starts.
 */
export async function makeRunDir(component: string): Promise<string> {
  const base = cachePath(component, 'runs');
  await mkdir(base, { recursive: true });
  for (const entry of await readdir(base)) {
    const owner = Number(/^(\d+)-/.exec(entry)?.[1]);
    if (Number.isInteger(owner) && owner !== process.pid && !pidAlive(owner)) {
      await rm(path.join(base, entry), { recursive: true, force: true });
    }
  }
  const dir = path.join(base, `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
