/**
 * Every rejection of a time trigger is a `TriggerError` whose message names the expression and,
 * when one is at fault, the cron field and its 1-based position, so an API can point at it.
 */
export class TriggerError extends Error {
  override readonly name = 'TriggerError';
  constructor(
    message: string,
    /** `cron`, `timezone`, `fuzzy_max_delay`, `catch_up`, ... : the trigger property at fault. */
    readonly property: string,
    /** The cron field at fault (`minute`, `day-of-week`, ...), when there is one. */
    readonly field?: string,
    /** 1-based position of that field in the expression. */
    readonly position?: number,
  ) {
    super(message);
  }
}
