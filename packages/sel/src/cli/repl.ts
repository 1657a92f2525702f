import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { compile } from '../program.js';
import { SelError } from '../errors.js';
import { importValue } from '../convert.js';
import { parseJsonPreservingLongs } from '../json-text.js';
import { resolveLimits, type Limits } from '../limits.js';
import { typeOf, type Value } from '../runtime/values.js';
import { formatError, formatValue } from './format.js';

export interface ReplOptions {
  input: Readable;
  output: Writable;
  /** Show prompts and use line editing (true for a terminal). */
  terminal: boolean;
  /** Where history is kept between sessions; undefined keeps it in memory only. */
  historyFile?: string;
}

const HELP = `Enter SEL statements; an entry continues while brackets are open or a statement is unfinished.
  :set name = <expr>   set an input variable (a SEL expression)
  :params file.json    load input variables from a JSON object
  :type <expr>         show the type of an expression
  :limits [name=value] show (or change) evaluation limits
  :vars                show the input variables
  :help  :quit`;

/** True while an entry cannot be complete yet: open brackets, or it ends in an operator. */
export function needsMore(text: string): boolean {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return true;
      i = end + 1;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
  }
  if (quote) return false;
  if (depth > 0) return true;
  const tail = text.replace(/\/\/[^\n]*$/, '').trimEnd();
  return /(?:[=+\-*/%<>!&|?:,.]|\belse)$/.test(tail);
}

export function runRepl(opts: ReplOptions): Promise<void> {
  const out = (s: string): void => {
    opts.output.write(`${s}\n`);
  };
  let history: string[] = [];
  if (opts.historyFile) {
    try {
      history = readFileSync(opts.historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
    } catch {
      history = [];
    }
  }
  const rl = createInterface({ input: opts.input, output: opts.terminal ? opts.output : undefined, terminal: opts.terminal, history, historySize: 1000 });
  const vars = new Map<string, Value>();
  let limits: Limits = resolveLimits();
  let buffer = '';

  const prompt = (): void => {
    if (opts.terminal) {
      rl.setPrompt(buffer ? '...> ' : 'sel> ');
      rl.prompt();
    }
  };

  const evalSource = (source: string): { ok: true; value: Value | undefined } | { ok: false; error: SelError } => {
    try {
      const program = compile(source, { maestro: true, limits });
      const r = program.evaluate(vars, { limits });
      return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error };
    } catch (e) {
      if (e instanceof SelError) return { ok: false, error: e };
      throw e;
    }
  };

  const command = (line: string): boolean => {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    const arg = line.trim().slice(cmd!.length).trim();
    switch (cmd) {
      case ':quit':
      case ':exit':
        return false;
      case ':help':
        out(HELP);
        break;
      case ':vars':
        for (const [k, v] of vars) out(`${k} = ${showValue(v)}`);
        break;
      case ':set': {
        const m = /^([A-Za-z_$][A-Za-z0-9_$]*)\s*=\s*([\s\S]+)$/.exec(arg);
        if (!m) {
          out('usage: :set name = <expr>');
          break;
        }
        const r = evalSource(m[2]!);
        if (!r.ok) out(formatError(m[2]!, r.error));
        else if (r.value === undefined) out(`${m[1]} not set: the expression has no value`);
        else {
          vars.set(m[1]!, r.value);
          out(`${m[1]} = ${showValue(r.value)}`);
        }
        break;
      }
      case ':params': {
        try {
          const data = parseJsonPreservingLongs(readFileSync(arg, 'utf8'));
          const v = importValue(data);
          if (!(v instanceof Map)) throw new Error('the file must hold a JSON object');
          for (const [k, x] of v) vars.set(k, x);
          out(`loaded ${v.size} variable${v.size === 1 ? '' : 's'}: ${[...v.keys()].join(', ')}`);
        } catch (e) {
          out(`cannot load ${arg}: ${(e as Error).message}`);
        }
        break;
      }
      case ':type': {
        const r = evalSource(arg);
        out(r.ok ? typeOf(r.value) : formatError(arg, r.error));
        break;
      }
      case ':limits': {
        for (const pair of rest) {
          const [k, v] = pair.split('=');
          try {
            limits = resolveLimits({ ...limits, [k!]: Number(v) });
          } catch (e) {
            out((e as Error).message);
          }
        }
        for (const [k, v] of Object.entries(limits)) out(`${k} = ${v}`);
        break;
      }
      default:
        out(`unknown command ${cmd}; :help lists the commands`);
    }
    return true;
  };

  return new Promise((resolve) => {
    rl.on('line', (line) => {
      if (!buffer && line.trim().startsWith(':')) {
        remember(opts.historyFile, line);
        if (!command(line)) {
          rl.close();
          return;
        }
        prompt();
        return;
      }
      buffer = buffer ? `${buffer}\n${line}` : line;
      if (!buffer.trim()) {
        buffer = '';
        prompt();
        return;
      }
      if (needsMore(buffer)) {
        prompt();
        return;
      }
      const source = buffer;
      buffer = '';
      remember(opts.historyFile, source.replace(/\n/g, ' '));
      const r = evalSource(source);
      out(r.ok ? showValue(r.value) : formatError(source, r.error));
      prompt();
    });
    rl.on('close', () => {
      // Input ended inside an unfinished entry: evaluate it so its error is shown, not lost.
      if (buffer.trim()) {
        const r = evalSource(buffer);
        out(r.ok ? showValue(r.value) : formatError(buffer, r.error));
        buffer = '';
      }
      resolve();
    });
    if (opts.terminal) out('SEL REPL — :help for commands, :quit to leave');
    prompt();
  });
}

function remember(file: string | undefined, entry: string): void {
  if (!file) return;
  try {
    appendFileSync(file, `${entry}\n`);
  } catch {
    // History is a convenience; an unwritable file must not stop the session.
  }
}

/** A value as the REPL prints it, or the error showing it met (a map that contains itself). */
function showValue(v: Parameters<typeof formatValue>[0]): string {
  try {
    return formatValue(v);
  } catch (e) {
    const err = e instanceof SelError ? e : new SelError('runtime', (e as Error).message);
    return `${err.kind} error: ${err.message}`;
  }
}
