#!/usr/bin/env node
// Runs the compiled program in ../dist, which `npm run build` writes (`npm ci` runs it through
// `prepare`). The TypeScript sources run only under tsx, in development and tests.
import { existsSync } from 'node:fs';

const program = new URL('../dist/sel.js', import.meta.url);
if (!existsSync(program)) {
  process.stderr.write('sel: the compiled program is missing; run "npm run build" in the Baton checkout\n');
  process.exit(1);
}
await import(program.href);
