import { mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from './startup-error.js';

const LOCK_FILE = 'baton.lock';

/**
 * Makes sure the PGlite data folder exists and is writable, and takes a lock on it: PGlite has no
 * lock of its own, and two processes writing one folder would corrupt it. Returns the release.
 */
export async function claimDataDir(dir: string): Promise<() => Promise<void>> {
  const fail = (what: string, err: unknown) =>
    new StartupError('BATON_DATA_DIR', `${what} "${dir}": ${describeFsError(err)}`, { cause: err });
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fail('cannot create data folder', err);
  }
  const probe = path.join(dir, `.write-check-${process.pid}`);
  try {
    await writeFile(probe, '');
    await unlink(probe);
  } catch (err) {
    throw fail('cannot write to data folder', err);
  }
  const lock = path.join(dir, LOCK_FILE);
  await takeLock(lock, dir);
  return async () => {
    await unlink(lock).catch(() => {});
  };
}

async function takeLock(lock: string, dir: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartupError('BATON_DATA_DIR', `cannot lock data folder "${dir}": ${describeFsError(err)}`, { cause: err });
      }
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new StartupError(
        'BATON_DATA_DIR',
        `data folder "${dir}" is in use by another Baton process (pid ${holder}); if none is running, delete ${lock}`,
      );
    }
    // Left behind by a process that died without cleaning up.
    await unlink(lock).catch(() => {});
  }
  throw new StartupError('BATON_DATA_DIR', `cannot lock data folder "${dir}": another process keeps taking ${lock}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EEXIST: 'a file with that name exists',
    ENOSPC: 'no space left on device',
  };
  return (e.code && reasons[e.code]) ?? e.message ?? String(err);
}
