export class ResponseTooLargeError extends Error {
  constructor(
    maxBytes: number,
    /** The bytes read before giving up (none when the declared length was already too large). */
    readonly head: Buffer,
    /** Bytes the server declared (Content-Length), or at least what was read. */
    readonly bytes: number,
  ) {
    super(`the response body is larger than ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** The response body, refusing (and cancelling the download) past `maxBytes`. */
export async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel();
    throw new ResponseTooLargeError(maxBytes, Buffer.alloc(0), declared);
  }
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > maxBytes) {
      await reader.cancel();
      chunks.push(value.subarray(0, maxBytes - total));
      throw new ResponseTooLargeError(maxBytes, Buffer.concat(chunks), total + value.byteLength);
    }
    total += value.byteLength;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
