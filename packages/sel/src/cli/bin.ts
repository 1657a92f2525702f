// The program `packages/sel/bin/sel.js` runs (built into packages/sel/dist/sel.js).
import { main } from './main.js';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // Whatever the input, the user gets one line, never a stack trace.
  process.stderr.write(`sel: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
