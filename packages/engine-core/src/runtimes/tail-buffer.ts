/** Keeps the last `maxBytes` bytes written to it (a stream's tail), counting what was dropped. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.maxBytes) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.maxBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  /** Bytes kept. */
  get length(): number {
    return this.size;
  }

  /** The tail as bytes (it may start in the middle of a UTF-8 character). */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The tail as text; a character cut at the front by trimming is skipped. */
  text(): string {
    let buf = Buffer.concat(this.chunks);
    if (this.dropped > 0) {
      let skip = 0;
      // UTF-8 continuation bytes are 10xxxxxx; a tail starting in the middle of a character skips them.
      while (skip < buf.length && skip < 3 && ((buf[skip] as number) & 0xc0) === 0x80) skip++;
      buf = buf.subarray(skip);
    }
    return buf.toString('utf8');
  }
}
