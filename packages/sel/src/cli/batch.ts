import { compile } from '../program.js';
import { SelError } from '../errors.js';
import { parseJsonPreservingLongs, stringifySel } from '../json-text.js';
import { typeOf, type Value } from '../runtime/values.js';
import type { EvaluateOptions } from '../program.js';

/** One batch line in, one JSON line out: `{"type","value"}` or `{"error":{kind,message,line,column}}`. */
export function evaluateBatchLine(line: string, options: EvaluateOptions & { maestro?: boolean } = {}): string {
  let entry: unknown;
  try {
    entry = parseJsonPreservingLongs(line);
  } catch (e) {
    return errorLine(new SelError('syntax', `batch line is not valid JSON: ${(e as Error).message}`, 1, 1));
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return errorLine(new SelError('syntax', 'batch line must be a JSON object {"source": ..., "params": {...}}', 1, 1));
  }
  const rec = entry as Record<string, unknown>;
  const source = rec.source;
  const params = rec.params ?? {};
  if (typeof source !== 'string') return errorLine(new SelError('syntax', 'batch line needs a "source" string', 1, 1));
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    return errorLine(new SelError('syntax', '"params" must be a JSON object', 1, 1));
  }
  let program;
  try {
    program = compile(source, { maestro: options.maestro });
  } catch (e) {
    return errorLine(e instanceof SelError ? e : new SelError('runtime', (e as Error).message));
  }
  const r = program.evaluate(params as Record<string, unknown>, options);
  if (!r.ok) return errorLine(r.error);
  try {
    return resultLine(r.value);
  } catch (e) {
    return errorLine(e instanceof SelError ? e : new SelError('runtime', (e as Error).message));
  }
}

export function resultLine(v: Value | undefined): string {
  return `{"type":${JSON.stringify(typeOf(v))},"value":${jsonValue(v)}}`;
}

/** LONGs beyond ±2^53 are written as decimal strings so every JSON reader keeps them exact. */
function jsonValue(v: Value | undefined): string {
  return stringifySel(v, { bigLongAsString: true });
}

export function errorLine(e: SelError): string {
  return JSON.stringify({ error: { kind: e.kind, message: e.message, line: e.line, column: e.column } });
}
