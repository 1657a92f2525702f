/** One problem with the input, naming the field at fault (`signals[3].params.watermark`). */
export interface FieldError {
  field: string;
  message: string;
}

/** Bad input: nothing was stored. Carries every problem found, not just the first. */
export class SignalValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'SignalValidationError';
  }
}

/** A lookup that found nothing (unknown name, seq id beyond the latest). */
export class SignalNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignalNotFoundError';
  }
}

/** Activating one signal trigger while every signal trigger of its workflow is paused as a whole. */
export class TriggerPauseConflictError extends Error {
  override readonly name = 'TriggerPauseConflictError';
}
