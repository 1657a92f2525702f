import type { ParamValue, ParamValueMap } from '../definition/model.js';
import { parseDurationSeconds } from '../definition/duration.js';

/** A step param with the wrong shape; runtimes report it as a user failure with this message. */
export class StepParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepParamError';
  }
}

function describe(v: ParamValue): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v === 'boolean' ? 'the boolean' : 'the number'} ${String(v)}`;
}

export function isParamMap(v: ParamValue | undefined): v is ParamValueMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Text of a scalar param; numbers and booleans become their text, as Maestro coerces them. */
export function optionalText(v: ParamValue | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  throw new StepParamError(`${name} must be a string, got ${describe(v)}`);
}

export function requiredText(v: ParamValue | undefined, name: string): string {
  const s = optionalText(v, name);
  if (s === undefined || s.trim() === '') throw new StepParamError(`${name} is required`);
  return s;
}

/** A STRING_MAP param (or a MAP whose values are all scalars), as name → text. */
export function optionalStringMap(v: ParamValue | undefined, name: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isParamMap(v)) throw new StepParamError(`${name} must be a map of strings, got ${describe(v)}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    const text = optionalText(x, `${name}.${k}`);
    if (text !== undefined) Object.defineProperty(out, k, { value: text, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A STRING_ARRAY param; a LONG/DOUBLE/BOOLEAN array is accepted element by element as text. */
export function requiredStringArray(v: ParamValue | undefined, name: string): string[] {
  if (v === undefined) throw new StepParamError(`${name} is required`);
  if (!Array.isArray(v)) {
    throw new StepParamError(`${name} must be an array of strings (argv; it is never run through a shell), got ${describe(v)}`);
  }
  return (v as readonly (string | bigint | number | boolean)[]).map((x) => String(x));
}

/** Seconds from a number, a LONG, or a duration text (`90`, `1m 30s`, `PT90S`); must be positive. */
export function optionalDurationMs(v: ParamValue | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  let seconds: number;
  if (typeof v === 'number' || typeof v === 'bigint') seconds = Number(v);
  else if (typeof v === 'string') {
    try {
      seconds = parseDurationSeconds(v);
    } catch (e) {
      throw new StepParamError(`${name}: ${(e as Error).message}`);
    }
  } else throw new StepParamError(`${name} must be seconds or a duration text, got ${describe(v)}`);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new StepParamError(`${name} must be a positive duration, got ${String(v)}`);
  // setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); longer would fire at once.
  if (seconds * 1000 > 2 ** 31 - 1) throw new StepParamError(`${name} is too long (at most 24 days)`);
  return Math.round(seconds * 1000);
}
