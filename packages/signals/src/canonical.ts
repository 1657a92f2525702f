import { createHash } from 'node:crypto';
import type { ParamValue, SignalParams } from './model.js';

/** Params as JSON text with sorted keys: the same params always give the same text. */
export function canonicalParams(params: SignalParams): string {
  const keys = Object.keys(params).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${valueText(params[k]!)}`).join(',')}}`;
}

function valueText(v: ParamValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : v.toString();
}

/**
 * The instance id of a signal published without a request id: a name-based UUID (version 5
 * layout over SHA-256) of name + canonical params, so republishing the same params dedupes.
 */
export function paramsInstanceId(name: string, params: SignalParams): string {
  const h = createHash('sha256').update(name).update('\u0000').update(canonicalParams(params)).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** JSON with object keys sorted at every level (bigint as digits): stable text for hashing. */
export function stableJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const rec = v as Record<string, unknown>;
  return `{${Object.keys(rec)
    .filter((k) => rec[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(rec[k])}`)
    .join(',')}}`;
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
