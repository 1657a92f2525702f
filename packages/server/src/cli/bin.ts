// The program `packages/server/bin/baton.js` runs (built into packages/server/dist/baton.js).
import { runCli } from './main.js';

await runCli();
