import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ParamValue } from '../definition/model.js';
import type { StepResult, StepRuntime, StepRuntimeContext } from '../runtime/step-runtime.js';
import { OutputsError, outputsFromJsonText } from './json-outputs.js';
import { killProcessGroup } from './process-group.js';
import { optionalDurationMs, optionalStringMap, optionalText, requiredStringArray, StepParamError } from './step-params.js';
import { TailBuffer } from './tail-buffer.js';

export interface ShellRuntimeOptions {
  /** When the step gives no `timeout`. Default 1 hour. Not scaled by `timeScale`: it bounds real work. */
  defaultTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL to the process group. Default 5 s. */
  killGraceMs?: number;
  /**
   * Bytes of stdout and of stderr kept in memory (the last ones), for `output_from: stdout` and the
   * stderr tail of a failure message. Default 64 KiB. The whole output goes to the attempt's logs
   * (`ctx.logs`), bounded by the engine.
   */
  tailBytes?: number;
  /** Largest output file read. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Variables copied from the engine's environment. Default PATH, HOME, LANG. */
  inheritEnv?: readonly string[];
  /** Base for a relative `working_dir`, and the directory when none is given. Default process.cwd(). */
  baseDir?: string;
}

interface ShellCommand {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  outputFrom: 'file' | 'stdout';
  idempotent: boolean;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the runtime ended the process, if it did. */
  ended?: 'timeout' | 'stop';
  spawnError?: NodeJS.ErrnoException;
  survivors: number[];
}

/** Part of stderr put in the failure message; the timeline gets the whole tail. */
const MESSAGE_STDERR_CHARS = 4000;
const STREAM_CLOSE_WAIT_MS = 1000;

/**
 * Baton's shell-command step (`type: Shell` or `ShellCommand`). Params: `command` (argv array,
 * executed directly, never through a shell), `env` (STRING_MAP over a minimal inherited
 * environment), `working_dir`, `timeout` (seconds or a duration text), `output_from`
 * (`file`, the default, or `stdout`) and `idempotent` (BOOLEAN).
 *
 * Outputs: the command may write a JSON object to the file named by `BATON_OUTPUT_FILE`; with
 * `output_from: stdout` the last non-empty line of stdout is read as that object instead.
 * Exit 0 → SUCCEEDED; another exit code → USER_FAILED with the stderr tail; timeout → TIMED_OUT.
 *
 * The command runs in its own process group, and the whole group is ended (SIGTERM, then SIGKILL
 * after the grace period) on timeout, on stop, and when the command exits leaving background
 * processes behind: a step's processes never outlive it.
 *
 * Resumption: a process started by an owner that was lost cannot be reattached (it may even be
 * on another machine). By default a resumed attempt ends PLATFORM_FAILED, so the step's retry
 * policy decides about running it again, and the loss is visible in the attempt history; running
 * the command a second time inside the same attempt could silently run it twice at once (the
 * first copy may still be alive). A step whose command is safe to repeat sets `idempotent: true`
 * and is then simply run again on resumption.
 */
export function shellRuntime(options: ShellRuntimeOptions = {}): StepRuntime {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 3_600_000;
  const killGraceMs = options.killGraceMs ?? 5000;
  const tailBytes = options.tailBytes ?? 64 * 1024;
  const maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
  const inherit = options.inheritEnv ?? ['PATH', 'HOME', 'LANG'];
  const baseDir = options.baseDir ?? process.cwd();
  if (!(defaultTimeoutMs > 0) || !(killGraceMs >= 0) || !(tailBytes > 0) || !(maxOutputBytes > 0)) {
    throw new Error('shellRuntime: timeouts and sizes must be positive');
  }

  return {
    async run(params, ctx) {
      let cmd: ShellCommand;
      try {
        cmd = readCommand(params, { defaultTimeoutMs, inherit, baseDir });
        await checkDirectory(cmd.cwd);
      } catch (e) {
        if (e instanceof StepParamError) return { status: 'USER_FAILED', message: `Shell step: ${e.message}` };
        throw e;
      }
      if (ctx.resumed && !cmd.idempotent) {
        return {
          status: 'PLATFORM_FAILED',
          message: 'the engine that ran this command was lost; its process cannot be reattached and the command is not marked idempotent, so it is not run again in this attempt',
        };
      }
      if (ctx.signal.aborted) return { status: 'PLATFORM_FAILED', message: 'stopped before the command started' };

      const dir = await mkdtemp(path.join(tmpdir(), 'baton-shell-'));
      const outputFile = path.join(dir, 'outputs.json');
      try {
        await ctx.timeline(`${ctx.resumed ? 'running again (idempotent) ' : ''}${describeArgv(cmd.argv)} in ${cmd.cwd}`);
        const stdout = new TailBuffer(tailBytes);
        const stderr = new TailBuffer(tailBytes);
        const exit = await runProcess(cmd, { ...cmd.env, BATON_OUTPUT_FILE: outputFile }, ctx, killGraceMs, stdout, stderr);
        return await conclude(cmd, exit, stdout, stderr, outputFile, maxOutputBytes, ctx);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function readCommand(params: Readonly<Record<string, ParamValue>>, o: { defaultTimeoutMs: number; inherit: readonly string[]; baseDir: string }): ShellCommand {
  const argv = requiredStringArray(params.command, 'command');
  if (argv.length === 0 || (argv[0] as string).trim() === '') throw new StepParamError('command needs at least the program to run');
  if (argv.some((a) => a.includes('\0'))) throw new StepParamError('command arguments cannot contain NUL characters');
  const env: Record<string, string> = {};
  for (const name of o.inherit) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [k, v] of Object.entries(optionalStringMap(params.env, 'env'))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new StepParamError(`env: ${JSON.stringify(k)} is not a valid variable name`);
    if (v.includes('\0')) throw new StepParamError(`env.${k} cannot contain NUL characters`);
    if (k === 'BATON_OUTPUT_FILE') throw new StepParamError('env.BATON_OUTPUT_FILE is set by the runtime');
    env[k] = v;
  }
  const wd = optionalText(params.working_dir, 'working_dir');
  const cwd = wd === undefined || wd.trim() === '' ? o.baseDir : path.resolve(o.baseDir, wd);
  const timeoutMs = optionalDurationMs(params.timeout, 'timeout') ?? o.defaultTimeoutMs;
  const from = (optionalText(params.output_from, 'output_from') ?? 'file').trim().toLowerCase();
  if (from !== 'file' && from !== 'stdout') throw new StepParamError(`output_from must be "file" or "stdout", got ${JSON.stringify(from)}`);
  const idem = params.idempotent;
  if (idem !== undefined && typeof idem !== 'boolean') throw new StepParamError('idempotent must be true or false');
  return { argv, env, cwd, timeoutMs, outputFrom: from, idempotent: idem === true };
}

async function checkDirectory(dir: string): Promise<void> {
  const ok = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!ok) throw new StepParamError(`working_dir ${dir} is not an existing directory`);
}

function runProcess(
  cmd: ShellCommand,
  env: Record<string, string>,
  ctx: StepRuntimeContext,
  killGraceMs: number,
  stdout: TailBuffer,
  stderr: TailBuffer,
): Promise<Exit> {
  const { signal, logs } = ctx;
  return new Promise((resolve) => {
    const child = spawn(cmd.argv[0] as string, cmd.argv.slice(1), {
      cwd: cmd.cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (c: Buffer) => {
      stdout.push(c);
      logs.write('stdout', c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr.push(c);
      logs.write('stderr', c);
    });
    let ended: Exit['ended'];
    let killing: Promise<{ survivors: number[] }> | undefined;
    const pgid = child.pid;
    const endGroup = (): Promise<{ survivors: number[] }> => {
      killing ??= pgid === undefined ? Promise.resolve({ survivors: [] }) : killProcessGroup(pgid, killGraceMs);
      return killing;
    };
    const onAbort = (): void => {
      ended ??= 'stop';
      void endGroup();
    };
    const timer = setTimeout(() => {
      ended ??= 'timeout';
      void endGroup();
    }, cmd.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const done = (exit: Exit): void => {
      settle();
      resolve(exit);
    };

    child.once('error', (e: NodeJS.ErrnoException) => {
      // Only spawn failures land here without an exit (the program is missing or not executable).
      if (child.pid === undefined) done({ code: null, signal: null, spawnError: e, survivors: [] });
    });
    child.once('exit', (code, sig) => {
      // The command is over: a timeout or stop from now on must not relabel its outcome.
      settle();
      void (async () => {
        // Whatever the command left running in its group (`cmd &`) ends with it.
        const { survivors } = await endGroup();
        await streamsClosed(child.stdout, child.stderr);
        done({ code, signal: sig, ended, survivors });
      })();
    });
  });
}

/** Waits for both pipes to drain; a process that escaped the group may hold them open, so not forever. */
async function streamsClosed(...streams: NodeJS.ReadableStream[]): Promise<void> {
  await Promise.race([
    Promise.all(streams.map((s) => new Promise<void>((r) => (s as NodeJS.ReadableStream & { closed?: boolean }).closed ? r() : s.once('close', () => r())))),
    new Promise<void>((r) => setTimeout(r, STREAM_CLOSE_WAIT_MS).unref()),
  ]);
  for (const s of streams) (s as unknown as { destroy(): void }).destroy();
}

async function conclude(
  cmd: ShellCommand,
  exit: Exit,
  stdout: TailBuffer,
  stderr: TailBuffer,
  outputFile: string,
  maxOutputBytes: number,
  ctx: StepRuntimeContext,
): Promise<StepResult> {
  const program = cmd.argv[0] as string;
  if (exit.spawnError) {
    const e = exit.spawnError;
    const why = e.code === 'ENOENT' ? 'was not found' : e.code === 'EACCES' ? 'is not executable' : `could not be started (${e.code ?? e.message})`;
    return { status: 'USER_FAILED', message: `${program} ${why}` };
  }
  const printed = (b: TailBuffer): number => b.dropped + b.length;
  if (printed(stdout) + printed(stderr) > 0) {
    await ctx.timeline(`printed ${printed(stdout)} bytes on stdout and ${printed(stderr)} on stderr (see the attempt's logs)`);
  }
  if (exit.survivors.length > 0) await ctx.timeline(`processes ${exit.survivors.join(', ')} of the command's group did not end`);
  const errTail = (): string => {
    const t = stderr.text().trimEnd();
    if (t === '') return '';
    return `; stderr: ${t.length > MESSAGE_STDERR_CHARS ? `…${t.slice(-MESSAGE_STDERR_CHARS)}` : t}`;
  };
  const seconds = (cmd.timeoutMs / 1000).toString();
  if (exit.ended === 'stop') return { status: 'PLATFORM_FAILED', message: `${program} stopped` };
  if (exit.ended === 'timeout') return { status: 'TIMED_OUT', message: `${program} timed out after ${seconds} s and was ended${errTail()}` };
  if (exit.code !== 0) {
    const how = exit.code === null ? `was killed by ${exit.signal ?? 'a signal'}` : `exited with code ${exit.code}`;
    return { status: 'USER_FAILED', message: `${program} ${how}${errTail()}` };
  }
  try {
    const outputs = cmd.outputFrom === 'stdout' ? outputsFromStdout(stdout) : await outputsFromFile(outputFile, maxOutputBytes);
    await ctx.timeline(`${program} exited with code 0`);
    return { status: 'SUCCEEDED', outputs };
  } catch (e) {
    if (e instanceof OutputsError) return { status: 'USER_FAILED', message: `${program} exited with code 0 but ${e.message}` };
    throw e;
  }
}

function outputsFromStdout(stdout: TailBuffer): Record<string, ParamValue> {
  const lines = stdout.text().split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1);
  if (last === undefined) throw new OutputsError('printed nothing; with output_from: stdout the last line must be a JSON object');
  return outputsFromJsonText(last, 'the last line of stdout');
}

async function outputsFromFile(file: string, maxBytes: number): Promise<Record<string, ParamValue>> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return {}; // writing outputs is optional
  }
  if (size > maxBytes) throw new OutputsError(`the output file is larger than ${maxBytes} bytes`);
  const text = await readFile(file, 'utf8');
  if (text.trim() === '') return {};
  return outputsFromJsonText(text, 'the output file (BATON_OUTPUT_FILE)');
}

function describeArgv(argv: readonly string[]): string {
  const text = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
