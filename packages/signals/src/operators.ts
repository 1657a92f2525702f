import { stringifyJson } from './json.js';
import type { ParamValue, SignalParams } from './model.js';
import { normalizeInt } from './validate.js';

export const OPERATORS = ['=', '!=', '<', '<=', '>', '>=', 'prefix', 'in', 'exists'] as const;
export type Operator = (typeof OPERATORS)[number];

/** One test on one param. `in` holds a list; `exists` holds whether the param must be present. */
export type Condition =
  | { op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: ParamValue }
  | { op: 'prefix'; value: string }
  | { op: 'in'; value: ParamValue[] }
  | { op: 'exists'; value: boolean };

/** Param name → conditions that must all hold (two bounds on one field are two conditions). */
export type MatchSpec = Record<string, Condition[]>;

/** Definition problem in match params (reported when a subscription or a gate is built). */
export class MatchSpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'MatchSpecError';
  }
}

function toParamValue(v: unknown, field: string): ParamValue {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return normalizeInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new MatchSpecError(field, 'must be a string or an integer');
}

/**
 * Builds one condition from `{value, operator}`. Operators are Maestro's (`=`, `<`, ...) plus
 * `!=`, `prefix`, `in` and `exists`; spelled case-insensitively.
 */
export function parseCondition(operator: unknown, value: unknown, field: string): Condition {
  const op: string = typeof operator === 'string' ? operator.trim().toLowerCase() : operator === undefined ? '=' : '';
  switch (op) {
    case '=':
    case '==':
      return { op: '=', value: toParamValue(value, `${field}.value`) };
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return { op, value: toParamValue(value, `${field}.value`) };
    case 'prefix':
      if (typeof value !== 'string') throw new MatchSpecError(`${field}.value`, 'the prefix operator needs a string');
      return { op: 'prefix', value };
    case 'in':
      if (!Array.isArray(value) || value.length === 0) throw new MatchSpecError(`${field}.value`, 'the in operator needs a non-empty list');
      return { op: 'in', value: value.map((v, i) => toParamValue(v, `${field}.value[${i}]`)) };
    case 'exists':
      if (value !== undefined && value !== null && typeof value !== 'boolean') throw new MatchSpecError(`${field}.value`, 'the exists operator takes true, false or nothing');
      return { op: 'exists', value: value !== false };
    default:
      throw new MatchSpecError(`${field}.operator`, `unknown operator ${JSON.stringify(operator)}; use one of ${OPERATORS.join(', ')}`);
  }
}

function sameType(a: ParamValue, b: ParamValue): boolean {
  return (typeof a === 'string') === (typeof b === 'string');
}

function compare(a: ParamValue, b: ParamValue): number {
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Strings compare lexicographically, integers numerically; a string never satisfies a numeric test and the reverse. */
export function conditionHolds(c: Condition, v: ParamValue | undefined): boolean {
  if (c.op === 'exists') return (v !== undefined) === c.value;
  if (v === undefined) return false;
  switch (c.op) {
    case 'prefix':
      return typeof v === 'string' && v.startsWith(c.value);
    case 'in':
      return c.value.some((x) => sameType(x, v) && compare(x, v) === 0);
    default: {
      if (!sameType(c.value, v)) return false;
      const cmp = compare(v, c.value);
      switch (c.op) {
        case '=':
          return cmp === 0;
        case '!=':
          return cmp !== 0;
        case '<':
          return cmp < 0;
        case '<=':
          return cmp <= 0;
        case '>':
          return cmp > 0;
        case '>=':
          return cmp >= 0;
      }
    }
  }
}

export function specMatches(spec: MatchSpec, params: SignalParams): boolean {
  for (const key in spec) {
    const v = Object.prototype.hasOwnProperty.call(params, key) ? params[key] : undefined;
    for (const c of spec[key]!) if (!conditionHolds(c, v)) return false;
  }
  return true;
}

/**
 * The same test as SQL over `signal_instances.params` (for history searches). Pushes its bind
 * values onto `args` and returns a boolean expression.
 */
export function specSql(spec: MatchSpec, args: unknown[]): string {
  const parts: string[] = [];
  const bind = (v: unknown): string => {
    args.push(v);
    return `$${args.length}`;
  };
  for (const key of Object.keys(spec)) {
    const k = bind(key);
    for (const c of spec[key]!) {
      if (c.op === 'exists') {
        parts.push(c.value ? `(params ? ${k})` : `NOT (params ? ${k})`);
        continue;
      }
      if (c.op === 'prefix') {
        parts.push(`(jsonb_typeof(params -> ${k}) = 'string' AND starts_with(params ->> ${k}, ${bind(c.value)}))`);
        continue;
      }
      if (c.op === 'in') {
        parts.push(`((params -> ${k}) = ANY (${bind(c.value.map((v) => stringifyJson(v)))}::jsonb[]))`);
        continue;
      }
      const sqlOp = c.op === '=' ? '=' : c.op === '!=' ? '<>' : c.op;
      if (typeof c.value === 'string') {
        parts.push(`(jsonb_typeof(params -> ${k}) = 'string' AND (params ->> ${k}) COLLATE "C" ${sqlOp} ${bind(c.value)})`);
      } else {
        // CASE, not AND: SQL does not promise to test the type before casting.
        parts.push(`(CASE WHEN jsonb_typeof(params -> ${k}) = 'number' THEN (params -> ${k})::numeric ${sqlOp} ${bind(c.value.toString())}::numeric ELSE FALSE END)`);
      }
    }
  }
  return parts.length > 0 ? parts.join(' AND ') : 'TRUE';
}
