import type { Command } from '../command.js';

const HELP = [
  'Usage: baton sel [repl]            interactive SEL read-eval-print loop',
  '       baton sel eval [options]    evaluate SEL (see "baton sel eval --help")',
  '',
  "SEL is Baton's workflow expression language (Maestro-compatible). This command runs the",
  "@baton/sel command line with the given arguments.",
].join('\n');

export const selCommand: Command = {
  name: 'sel',
  summary: 'the SEL expression REPL and evaluator',
  help: HELP,
  async run(args) {
    // The REPL and evaluator write to the process's own streams.
    const { main } = await import('../../../../sel/src/cli/main.js');
    return main(args);
  },
};
