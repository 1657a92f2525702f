#!/usr/bin/env node
// The sources are TypeScript run in place: tsx compiles them as they load.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli();
