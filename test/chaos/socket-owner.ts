import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Which of `pids` holds the client end of a TCP connection over 127.0.0.1 (Linux, from /proc):
 * the client socket's inode from /proc/net/tcp, then the process with an fd on that socket.
 * Undefined when no candidate holds it (the process is gone, or /proc is not there).
 *
 * Synchronous on purpose: a few hundred readlinks take a millisecond or two, while queued behind
 * a busy thread pool they took long enough for the connection to close before it was found.
 */
export function socketOwner(clientPort: number, serverPort: number, pids: readonly number[]): number | undefined {
  const inode = clientSocketInode(clientPort, serverPort);
  if (inode === undefined) return undefined;
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      if (readLink(`/proc/${pid}/fd/${fd}`) === target) return pid;
    }
  }
  return undefined;
}

const LOOPBACK = '0100007F';

function readLink(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    // The fd was closed between listing and reading.
    return undefined;
  }
}

function clientSocketInode(clientPort: number, serverPort: number): string | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  const local = `${LOOPBACK}:${hex(clientPort)}`;
  const remote = `${LOOPBACK}:${hex(serverPort)}`;
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
    if (cols[1] === local && cols[2] === remote && cols[9] !== undefined && cols[9] !== '0') return cols[9];
  }
  return undefined;
}
