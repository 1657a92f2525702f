/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/**
 * One `baton <name>` command, in a file of its own under `commands/`. `run` gets the arguments after
 * the command name and resolves to the process exit code.
 */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text shown by `baton <name> --help`. */
  help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * A command as `baton --help` lists it, in `commands/index.ts`: its module (and whatever that
 * imports) loads only when the command runs, so `baton --help` and a command that talks HTTP do
 * not pay for the server's dependencies. `name` and `summary` repeat the loaded command's own (a
 * test checks they agree).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Wrong arguments: main prints the message and a pointer to `--help`, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
