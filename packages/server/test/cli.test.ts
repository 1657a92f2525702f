import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError, type CliIo, type Command } from '../src/cli/command.js';
import { commands } from '../src/cli/commands/index.js';
import { main } from '../src/cli/main.js';
import { StartupError } from '../src/startup-error.js';

function io(env: Record<string, string> = {}): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdout, stderr, env, cwd: '/tmp', out: () => out, err: () => err };
}

const calls: string[][] = [];
const echo: Command = {
  name: 'echo',
  summary: 'prints its arguments',
  help: 'Usage: baton echo <words...>',
  async run(args, cli) {
    calls.push(args);
    if (args[0] === '--bad') throw new UsageError('unknown option --bad');
    if (args[0] === 'config') throw new StartupError('PORT', 'must be a whole number');
    if (args[0] === 'bug') throw new TypeError('x is undefined');
    cli.stdout.write(`${args.join(' ')}\n`);
    return 0;
  },
};

describe('baton CLI', () => {
  it('lists the commands for --help, -h and help', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const cli = io();
      expect(await main([flag], cli)).toBe(0);
      expect(cli.out()).toContain('Usage: baton <command>');
      expect(cli.out()).toMatch(/^ {2}serve {2,}run the Baton service/m);
    }
  });

  it('prints the list and exits 2 without a command', async () => {
    const cli = io();
    expect(await main([], cli)).toBe(2);
    expect(cli.out()).toContain('Commands:');
  });

  it('rejects an unknown command in one line', async () => {
    const cli = io();
    expect(await main(['deploy'], cli)).toBe(2);
    expect(cli.err()).toBe('baton: unknown command "deploy"; run "baton --help" for the list\n');
  });

  it('shows a command\'s own help, naming its settings', async () => {
    const cli = io();
    expect(await main(['serve', '--help'], cli)).toBe(0);
    for (const name of ['PORT', 'HOST', 'DATABASE_URL', 'BATON_DATA_DIR', 'LOG_LEVEL']) expect(cli.out()).toContain(name);
  });

  it('rejects unknown serve options before starting anything', async () => {
    const cli = io();
    expect(await main(['serve', '--port', '9'], cli)).toBe(2);
    expect(cli.err()).toMatch(/^baton serve: Unknown option '--port'.*; run "baton serve --help"\n$/);
  });

  it('fails serve on bad configuration with one line', async () => {
    const cli = io({ LOG_LEVEL: 'chatty' });
    expect(await main(['serve'], cli)).toBe(1);
    expect(cli.err()).toBe('baton: LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "chatty"\n');
  });

  it('dispatches to a registered command with the remaining arguments', async () => {
    const cli = io();
    expect(await main(['echo', 'a', 'b'], cli, [echo])).toBe(0);
    expect(calls.at(-1)).toEqual(['a', 'b']);
    expect(cli.out()).toBe('a b\n');
  });

  it('reports usage errors, start-up errors and defects differently', async () => {
    const usage = io();
    expect(await main(['echo', '--bad'], usage, [echo])).toBe(2);
    expect(usage.err()).toBe('baton echo: unknown option --bad; run "baton echo --help"\n');

    const config = io();
    expect(await main(['echo', 'config'], config, [echo])).toBe(1);
    expect(config.err()).toBe('baton: PORT: must be a whole number\n');

    const bug = io();
    expect(await main(['echo', 'bug'], bug, [echo])).toBe(1);
    expect(bug.err()).toMatch(/^baton: echo failed: TypeError: x is undefined\n\s+at /);
  });

  it('lists each command under the name and summary its module gives, loading it only to run it', async () => {
    for (const entry of commands) {
      const loaded = await entry.load();
      expect({ name: loaded.name, summary: loaded.summary }, entry.name).toEqual({ name: entry.name, summary: entry.summary });
    }
    let loads = 0;
    const lazy = { name: 'echo', summary: echo.summary, load: async () => (loads++, echo) };
    const help = io();
    expect(await main(['--help'], help, [lazy])).toBe(0);
    expect(help.out()).toMatch(/^ {2}echo {2,}prints its arguments$/m);
    expect(loads).toBe(0);
    const cli = io();
    expect(await main(['echo', 'x'], cli, [lazy])).toBe(0);
    expect(cli.out()).toBe('x\n');
    expect(loads).toBe(1);
  });
});
