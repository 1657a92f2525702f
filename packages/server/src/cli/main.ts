import { StartupError } from '../startup-error.js';
import { UsageError, type CliIo, type Command, type CommandEntry } from './command.js';
import { commands as builtinCommands } from './commands/index.js';

const HELP_FLAGS = new Set(['--help', '-h', 'help']);

type Listed = Command | CommandEntry;

export function usage(commands: readonly Listed[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Usage: baton <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run "baton <command> --help" for the options of a command.',
  ].join('\n');
}

/**
 * Runs one command line and returns the exit code: 0 success, 1 the command failed (one line on
 * stderr saying why), 2 the command line itself was wrong.
 */
export async function main(argv: readonly string[], io: CliIo, commands: readonly Listed[] = builtinCommands): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || HELP_FLAGS.has(name)) {
    io.stdout.write(`${usage(commands)}\n`);
    return name === undefined ? 2 : 0;
  }
  const listed = commands.find((c) => c.name === name);
  if (!listed) {
    io.stderr.write(`baton: unknown command "${name}"; run "baton --help" for the list\n`);
    return 2;
  }
  const command = 'load' in listed ? await listed.load() : listed;
  if (rest.some((a) => a === '--help' || a === '-h')) {
    io.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`baton ${command.name}: ${err.message}; run "baton ${command.name} --help"\n`);
      return 2;
    }
    if (err instanceof StartupError) {
      io.stderr.write(`baton: ${err.describe()}\n`);
      return 1;
    }
    // Not an operator mistake but a defect: the stack is what a bug report needs.
    io.stderr.write(`baton: ${command.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

/** Entry point of the `baton` executable: runs `process.argv` and exits with the result. */
export async function runCli(): Promise<never> {
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  process.exit(code);
}
