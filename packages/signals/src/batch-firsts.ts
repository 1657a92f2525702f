/**
 * Where each signal of a batch first occurs (by name and instance id): `first[i]` is the index
 * of the first signal equal to signal i, and `unique` lists those first indexes in batch order.
 * Keyed by the instance id alone, which two names rarely share: the name is compared only when an
 * id repeats, and name-and-id keys are built only for an id that two names share.
 */
export function firstOccurrences(signals: readonly { name: string; instanceId: string }[]): { first: Int32Array; unique: number[] } {
  const first = new Int32Array(signals.length);
  const unique: number[] = [];
  const byId = new Map<string, number>();
  let byNameAndId: Map<string, number> | undefined;
  for (let i = 0; i < signals.length; i++) {
    const s = signals[i]!;
    const seen = byId.get(s.instanceId);
    if (seen === undefined) {
      byId.set(s.instanceId, i);
      first[i] = i;
      unique.push(i);
    } else if (signals[seen]!.name === s.name) {
      first[i] = seen;
    } else {
      byNameAndId ??= new Map();
      const key = `${s.name}\u0000${s.instanceId}`;
      const f = byNameAndId.get(key);
      if (f === undefined) {
        byNameAndId.set(key, i);
        first[i] = i;
        unique.push(i);
      } else first[i] = f;
    }
  }
  return { first, unique };
}
