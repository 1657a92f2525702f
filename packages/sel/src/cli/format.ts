import type { SelError } from '../errors.js';
import { stringifySel } from '../json-text.js';
import { typeOf, type Value } from '../runtime/values.js';

/** An error with the offending source line and a caret under the fault. */
export function formatError(source: string, err: SelError): string {
  const lines = source.split(/\r\n|\r|\n/);
  const header = err.line < 1 ? `${err.kind} error: ${err.message}` : `${err.kind} error at line ${err.line}, column ${err.column}: ${err.message}`;
  const text = lines[err.line - 1];
  if (text === undefined || err.line < 1) return header;
  const gutter = String(err.line);
  const pad = ' '.repeat(gutter.length);
  const caretAt = Math.max(0, Math.min(err.column - 1, text.length));
  const lead = text.slice(0, caretAt).replace(/[^\t]/g, ' ');
  return `${header}\n ${gutter} | ${text}\n ${pad} | ${lead}^`;
}

/** A result as the REPL shows it: the value, then its SEL type. */
export function formatValue(v: Value | undefined): string {
  if (v === undefined) return '(no value: VOID)';
  return `${stringifySel(v)} : ${typeOf(v)}`;
}
