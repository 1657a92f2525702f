// The program `packages/sel/bin/sel.js` runs (built into packages/sel/dist/sel.js).
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
