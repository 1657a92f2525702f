import { Worker } from 'node:worker_threads';

/**
 * A last-resort wall-clock guard for the one-shot `sel eval`: the interpreter checks its own
 * wall-clock limit between steps, but one library call (a backtracking regular expression) can
 * run for hours without a step. This thread sleeps until `ms` have passed; if the evaluation has
 * not finished by then it writes `message` to the given file descriptor and ends the process
 * (the blocked main thread cannot be interrupted any other way). Plain JavaScript, so it starts
 * without the TypeScript loader.
 */
const CODE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const done = new Int32Array(workerData.signal);
if (Atomics.wait(done, 0, 0, workerData.ms) === 'timed-out') {
  writeSync(workerData.fd, workerData.message + '\\n');
  process.kill(process.pid, 'SIGKILL');
}
`;

/** Starts the guard; call the returned function once the evaluation has finished. */
export function startWatchdog(ms: number, fd: number, message: string): () => void {
  const signal = new SharedArrayBuffer(4);
  const done = new Int32Array(signal);
  const worker = new Worker(CODE, { eval: true, workerData: { signal, ms, fd, message } });
  worker.unref();
  return () => {
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
  };
}
