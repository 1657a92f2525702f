/**
 * A problem that stops the service from starting and that the operator can fix: a bad setting, an
 * unreachable database, a port in use. The CLI prints it as one line and exits non-zero, without a
 * stack trace, because the stack says nothing the message does not.
 */
export class StartupError extends Error {
  override readonly name = 'StartupError';

  constructor(
    /** The environment variable the operator should look at, e.g. `PORT`. */
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The single line shown to the operator. */
  describe(): string {
    // Driver messages occasionally span lines; the operator gets one line whatever the source.
    return `${this.setting}: ${this.message.trim().replace(/\s*\n\s*/g, ' ')}`;
  }
}
