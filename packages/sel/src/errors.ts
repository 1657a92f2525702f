/** The kinds of SEL errors users see; every error carries a position in the source. */
export type SelErrorKind = 'syntax' | 'type' | 'name' | 'limit' | 'user' | 'runtime';

export class SelError extends Error {
  constructor(
    readonly kind: SelErrorKind,
    message: string,
    /** 1-based; 0 when the error is not tied to a place (attached by the interpreter later). */
    public line = 0,
    public column = 0,
  ) {
    super(message);
    this.name = 'SelError';
  }

  toJSON(): { kind: SelErrorKind; message: string; line: number; column: number } {
    return { kind: this.kind, message: this.message, line: this.line, column: this.column };
  }
}

/** Thrown by library code; the interpreter fills in the line and column of the call. */
export function runtimeError(message: string): SelError {
  return new SelError('runtime', message);
}

export function limitError(limit: string, value: number | bigint, detail?: string): SelError {
  return new SelError('limit', `${limit} limit of ${value} exceeded${detail ? `: ${detail}` : ''}`);
}
