// Starts the SEL worker from its TypeScript source (tests, `tsx`, bin/ run in place): registers
// tsx in this thread, then loads the entry the pool named. A compiled build starts sel-worker.js
// directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
