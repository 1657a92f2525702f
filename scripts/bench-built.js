// Runs a benchmark on Baton's code in the form `npm run build` ships it (what `baton serve` and
// `sel` run): the benchmark file and the @baton/* workspaces it imports bundled by esbuild into one
// plain-JavaScript module, third-party packages left as imports as in scripts/build.js, then run
// by node. Under tsx every source file is its own module, transformed on load, and the same SEL
// code measures differently, up to ~25% slower per cold compile (docs/benchmarks.md).
//
//   node scripts/bench-built.js bench/sel.bench.ts [args...]
//
// Plain JavaScript, like scripts/build.js, whose bundling rules it reuses.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { externalPackages } from './build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/bench-built.js <bench file> [args...]\n');
  process.exit(2);
}
// Inside the checkout (not /tmp) so that the external packages resolve from its node_modules;
// one file per benchmark and process, so that runs side by side do not overwrite each other's.
const outdir = path.join(root, '.cache', 'bench-built');
mkdirSync(outdir, { recursive: true });
const outfile = path.join(outdir, `${path.basename(entry, '.ts')}.${process.pid}.mjs`);
await esbuild.build({
  absWorkingDir: root,
  entryPoints: [path.resolve(entry)],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [externalPackages],
});
const run = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit' });
rmSync(outfile, { force: true });
process.exit(run.status ?? 1);
