import type { ParamValue } from '../definition/model.js';
import { stringifyJson } from '../definition/json-text.js';
import { paramValueToJson } from './typed-value.js';

/** A `${...}` / `$name` reference: a param of the current scope, or of another step. */
export type ParamRef = { name: string; stepId?: undefined } | { name: string; stepId: string };

export class InterpolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpolationError';
  }
}

/**
 * `${stepId__param}` (Maestro's form) and `${param@stepId}` (the form in Maestro's blog) read
 * another step's param; anything else is a param of the current scope. The step id is split at
 * the last `__`, since step ids may not contain `__` but param names may.
 */
export function parseRef(text: string): ParamRef {
  const at = text.lastIndexOf('@');
  if (at > 0 && at < text.length - 1) return { name: text.slice(0, at), stepId: text.slice(at + 1) };
  const sep = text.indexOf('__');
  if (sep > 0 && sep < text.length - 2) return { name: text.slice(sep + 2), stepId: text.slice(0, sep) };
  return { name: text };
}

/** Java's `String.valueOf(double)`: `1.0`, `0.5`, `1.0E10`, `1.0E-4`. */
export function javaDoubleString(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) return Number.isInteger(n) ? `${n}.0` : String(n);
  const [mantissa = '', exp = '0'] = n.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`;
}

/** How a param value reads inside a string: scalars as text, arrays and maps as JSON. */
export function formatParamValue(v: ParamValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return javaDoubleString(v);
  return stringifyJson(paramValueToJson(v));
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * Replaces `${ref}` and `$name` in a string literal with param values; `$$` is a literal `$`, and
 * a `$` followed by anything else stays as it is. Unknown params are errors naming them.
 */
export function interpolate(template: string, lookup: (ref: ParamRef) => ParamValue | undefined): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  const resolve = (text: string): string => {
    const ref = parseRef(text);
    const v = lookup(ref);
    if (v === undefined) {
      throw new InterpolationError(ref.stepId !== undefined ? `param "${ref.name}" of step "${ref.stepId}" is not defined` : `param "${ref.name}" is not defined`);
    }
    return formatParamValue(v);
  };
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, d);
    const next = template[d + 1];
    if (next === '$') {
      out += '$';
      i = d + 2;
    } else if (next === '{') {
      const end = template.indexOf('}', d + 2);
      if (end < 0) throw new InterpolationError(`unclosed "\${" at position ${d} in "${template}"`);
      const inner = template.slice(d + 2, end).trim();
      if (inner === '') throw new InterpolationError(`empty "\${}" at position ${d} in "${template}"`);
      out += resolve(inner);
      i = end + 1;
    } else {
      IDENT.lastIndex = d + 1;
      const m = IDENT.exec(template);
      if (m) {
        out += resolve(m[0]);
        i = d + 1 + m[0].length;
      } else {
        out += '$';
        i = d + 1;
      }
    }
  }
  return out;
}

/** The refs a template reads (to order evaluation and to validate names before running). */
export function templateRefs(template: string): ParamRef[] {
  const refs: ParamRef[] = [];
  try {
    interpolate(template, (ref) => {
      refs.push(ref);
      return '';
    });
  } catch {
    // Malformed templates have no reliable refs; interpolate() reports them when run.
  }
  return refs;
}
