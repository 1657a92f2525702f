import { readdirSync, readFileSync } from 'node:fs';

/**
 * Live (non-zombie) members of a process group. On Linux this reads /proc, so processes that
 * have exited but were not yet reaped (their parent died and init has not collected them) do not
 * count; elsewhere it falls back to signal 0, where a zombie still counts as alive.
 */
export function processGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return groupExists(pgid) ? [pgid] : [];
  }
  const members: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we were looking
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(name));
  }
  return members;
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

async function waitForGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (processGroupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Ends every process of the group: SIGTERM, then SIGKILL if any member outlives `graceMs`.
 * Resolves once none is left (or reports the survivors, which only a process that escaped to its
 * own session or an unkillable one in uninterruptible sleep can be).
 */
export async function killProcessGroup(pgid: number, graceMs: number): Promise<{ forced: boolean; survivors: number[] }> {
  if (processGroupMembers(pgid).length === 0) return { forced: false, survivors: [] };
  signalGroup(pgid, 'SIGTERM');
  if (await waitForGroupGone(pgid, graceMs)) return { forced: false, survivors: [] };
  signalGroup(pgid, 'SIGKILL');
  await waitForGroupGone(pgid, 5000);
  return { forced: true, survivors: processGroupMembers(pgid) };
}
