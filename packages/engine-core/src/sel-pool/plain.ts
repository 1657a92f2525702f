import { SelArray, type Value } from '@baton/sel';

/** SEL value → plain data (LONG stays bigint; maps become objects; host objects such as DateTime become their text). */
export function selToPlain(v: Value | undefined): unknown {
  if (v === undefined || v === null) return v ?? null;
  if (typeof v !== 'object') return v;
  if (v instanceof SelArray) return v.items.map((x) => selToPlain(x as Value));
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, k, { value: selToPlain(x as Value), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return String(v);
}
