/** Length of `buf` without a UTF-8 character cut at its end (at most 3 bytes shorter). */
export function completeUtf8Length(buf: Uint8Array): number {
  const n = buf.length;
  // Walk back over continuation bytes (10xxxxxx) to the lead byte of the last character.
  let i = n - 1;
  while (i >= 0 && i > n - 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  if (i < 0) return n;
  const lead = buf[i] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - i >= need ? n : i;
}

/** Bytes at the start of `buf` that continue a character begun before it (0 to 3). */
export function leadingContinuationBytes(buf: Uint8Array): number {
  let skip = 0;
  while (skip < buf.length && skip < 3 && ((buf[skip] as number) & 0xc0) === 0x80) skip++;
  return skip;
}
