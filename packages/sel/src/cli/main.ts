import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { compile } from '../program.js';
import { SelError } from '../errors.js';
import { importValue } from '../convert.js';
import { parseJsonPreservingLongs } from '../json-text.js';
import type { Value } from '../runtime/values.js';
import { errorLine, evaluateBatchLine, resultLine } from './batch.js';
import { formatError, formatValue } from './format.js';
import { runRepl } from './repl.js';
import { startWatchdog } from './watchdog.js';

/** Wall-clock limit of `sel eval` unless --timeout says otherwise (0 = none). */
export const DEFAULT_EVAL_TIMEOUT_MS = 5000;
/** How long past the limit the watchdog waits for the interpreter's own check to end the program. */
const WATCHDOG_GRACE_MS = 500;

const USAGE = `usage:
  sel                                  start the REPL
  sel eval '<program>' [--params file.json] [--json] [--maestro] [--timeout MS]
  sel eval --batch FILE                one JSON object per line: {"source": "...", "params": {...}}`;

function loadParams(file: string): Map<string, Value> {
  const v = importValue(parseJsonPreservingLongs(readFileSync(file, 'utf8')));
  if (!(v instanceof Map)) throw new Error(`${file} must hold a JSON object`);
  return v;
}

async function runBatch(file: string, maestro: boolean): Promise<number> {
  const input = file === '-' ? process.stdin : (await import('node:fs')).createReadStream(file);
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    process.stdout.write(`${evaluateBatchLine(line, { maestro })}\n`);
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'repl') {
    const historyFile = process.env.SEL_HISTORY_FILE ?? path.join(homedir(), '.sel_history');
    await runRepl({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY), historyFile: historyFile || undefined });
    return 0;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cmd !== 'eval') {
    process.stderr.write(`unknown command '${cmd}'\n${USAGE}\n`);
    return 2;
  }
  let source: string | undefined;
  let paramsFile: string | undefined;
  let batch: string | undefined;
  let json = false;
  let maestro = false;
  let timeoutMs = DEFAULT_EVAL_TIMEOUT_MS;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--params') paramsFile = rest[++i];
    else if (a === '--batch') batch = rest[++i];
    else if (a === '--json') json = true;
    else if (a === '--maestro') maestro = true;
    else if (a === '--timeout') {
      const raw = rest[++i] ?? '';
      timeoutMs = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(timeoutMs >= 0 && timeoutMs <= 86_400_000)) {
        process.stderr.write(`--timeout must be milliseconds from 0 to 86400000, got '${raw}'\n`);
        return 2;
      }
    }
    else if (source === undefined && !a.startsWith('--')) source = a;
    else {
      process.stderr.write(`unexpected argument '${a}'\n${USAGE}\n`);
      return 2;
    }
  }
  if (batch !== undefined) return runBatch(batch, maestro);
  if (source === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let vars = new Map<string, Value>();
  if (paramsFile !== undefined) {
    try {
      vars = loadParams(paramsFile);
    } catch (e) {
      process.stderr.write(`cannot read params: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let error: SelError | undefined;
  let shown = '';
  const limitText = `wall-clock limit of ${timeoutMs} ms exceeded (sel eval --timeout MS sets another)`;
  const finished = timeoutMs > 0
    ? startWatchdog(timeoutMs + WATCHDOG_GRACE_MS, json ? 1 : 2, json ? errorLine(new SelError('limit', limitText, 1, 1)) : `limit error: ${limitText}`)
    : () => {};
  try {
    const r = compile(source, { maestro }).evaluate(vars, { limits: { timeoutMs } });
    if (r.ok) shown = json ? resultLine(r.value) : formatValue(r.value);
    else error = r.error;
  } catch (e) {
    // Showing the value can fail too (a map that contains itself): an error like any other.
    error = e instanceof SelError ? e : new SelError('runtime', e instanceof Error ? e.message : String(e));
  } finally {
    finished();
  }
  if (json) {
    process.stdout.write(`${error ? errorLine(error) : shown}\n`);
  } else if (error) {
    process.stderr.write(`${formatError(source, error)}\n`);
  } else {
    process.stdout.write(`${shown}\n`);
  }
  return error ? 1 : 0;
}
