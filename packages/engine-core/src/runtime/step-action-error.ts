/** A step action or breakpoint change the engine refuses: unknown target, or the wrong state. */
export class StepActionError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'StepActionError';
  }
}
