import { javaDoubleToString } from './double-to-string.js';
import { isSelArray, selArrayItems } from './types.js';

/** String.valueOf(x) as the reference prints SEL values (Java's toString of the unboxed value). */
export function javaToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return javaDoubleToString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      if (v instanceof Map) {
        const parts: string[] = [];
        for (const [k, val] of v) parts.push(`${javaToString(k)}=${javaToString(val)}`);
        return `{${parts.join(', ')}}`;
      }
      if (isSelArray(v)) return `[${selArrayItems(v).map(javaToString).join(', ')}]`;
      return String(v);
  }
}
