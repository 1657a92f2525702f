/**
 * `npm run test:chaos`: the chaos run (bounded by default, `--long` for the long one) or, with
 * `--soak [--minutes N]`, the soak run. Options: `--seed N`, `--retention` (retention passes purge
 * signals throughout, see ChaosOptions.retention). Prints a table and, as the last line,
 * one JSON object with the figures; exits 1 when an invariant is violated.
 */
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../../scripts/infra/build.js';
import { BOUNDED, LONG, runChaos } from './chaos.js';
import { runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    long: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    minutes: { type: 'string' },
    seed: { type: 'string' },
    retention: { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

// The cluster runs the compiled `baton`: build it when a source is newer than the last build.
for (const line of await ensureBuilt()) log(line);

if (values.soak) {
  if (!values.long && values.minutes === undefined) log('soak: 30 minutes (pass --minutes N for another length)');
  const summary = await runSoak({ minutes: positive('minutes', values.minutes, 30), log });
  console.log(JSON.stringify(summary));
  process.exit(0);
} else {
  const seed = Math.floor(positive('seed', values.seed, Math.floor(Math.random() * 1e9)));
  const result = await runChaos({ ...(values.long ? LONG : BOUNDED), seed, log, retention: values.retention });
  for (const line of result.report) console.log(line);
  console.log(result.ok ? 'all invariants hold' : 'INVARIANT VIOLATED');
  console.log(JSON.stringify(result.figures));
  process.exit(result.ok ? 0 : 1);
}
