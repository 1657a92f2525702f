/**
 * The field readers every part of a definition uses: typed getters that record a problem with its
 * field path instead of throwing, so one pass reports every mistake. The section readers
 * (params, triggers, steps, the workflow) extend it.
 */
import { toDurationSpec, toIntSpec, toSecondsSpec } from './duration.js';
import { fieldPath, Issues, type DefinitionIssue } from './issues.js';
import type { DurationSpec, IntSpec, JsonObject, JsonValue } from './model.js';
import { defineEntry } from '../params/typed-value.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: DefinitionIssue[] };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v === 'bigint' ? 'number' : typeof v}`;
}

/** Reads JSON fields, collecting each problem (field path and message) in `issues`. */
export class JsonFields {
  constructor(
    readonly issues: Issues = new Issues(),
    /** The YAML DSL lets `'!name': <SEL>` omit the type; JSON definitions always give one. */
    protected readonly opts: { allowUntypedExpressions?: boolean } = {},
  ) {}

  protected err(path: string, message: string): void {
    this.issues.add(path, message);
  }

  /** The members of `obj` not in `known`, as raw JSON, or undefined when there are none. */
  protected extra(obj: JsonObject, known: readonly string[]): JsonObject | undefined {
    let out: JsonObject | undefined;
    for (const [k, v] of Object.entries(obj)) {
      if (known.includes(k)) continue;
      out ??= {};
      defineEntry(out, k, v);
    }
    return out;
  }

  protected str(obj: JsonObject, key: string, path: string, required = false): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.err(fieldPath(path, key), 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.err(fieldPath(path, key), `must be a string, got ${kindOf(v)}`);
      return undefined;
    }
    if (required && v.trim() === '') this.err(fieldPath(path, key), 'must not be empty');
    return v;
  }

  protected bool(obj: JsonObject, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    this.err(fieldPath(path, key), `must be true or false, got ${kindOf(v)}`);
    return undefined;
  }

  protected int(obj: JsonObject, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.err(fieldPath(path, key), `must be a whole number, got ${kindOf(v)}`);
      return undefined;
    }
    if (n < min || n > max) {
      this.err(fieldPath(path, key), `must be between ${min} and ${max}, got ${n}`);
      return undefined;
    }
    return n;
  }

  protected enumValue<T extends string>(v: JsonValue | undefined, allowed: readonly T[], path: string): T | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.err(path, `must be one of ${allowed.join(', ')}, got ${kindOf(v)}`);
      return undefined;
    }
    const upper = v.trim().toUpperCase();
    if (!(allowed as readonly string[]).includes(upper)) {
      this.err(path, `must be one of ${allowed.join(', ')}, got "${v}"`);
      return undefined;
    }
    return upper as T;
  }

  protected duration(v: JsonValue | undefined, path: string): DurationSpec | undefined {
    if (v === undefined || v === null) return undefined;
    try {
      return toDurationSpec(v);
    } catch (e) {
      this.err(path, (e as Error).message);
      return undefined;
    }
  }

  protected intSpec(v: JsonValue | undefined, path: string, seconds = false): IntSpec | undefined {
    if (v === undefined || v === null) return undefined;
    try {
      return seconds ? toSecondsSpec(v) : toIntSpec(v);
    } catch (e) {
      this.err(path, (e as Error).message);
      return undefined;
    }
  }

  protected object(v: JsonValue | undefined, path: string, required = false): JsonObject | undefined {
    if (v === undefined || v === null) {
      if (required) this.err(path, 'is required');
      return undefined;
    }
    if (!isObject(v)) {
      this.err(path, `must be an object, got ${kindOf(v)}`);
      return undefined;
    }
    return v;
  }

  protected array(v: JsonValue | undefined, path: string): JsonValue[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.err(path, `must be an array, got ${kindOf(v)}`);
      return [];
    }
    return v;
  }
}
