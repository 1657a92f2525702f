/** The parsed, normalised form of a cron expression; all three syntaxes compile to this. */
export type CronForm = 'unix' | 'quartz' | 'predefined';

export interface DayOfMonthRule {
  /** Plain days 1..31. */
  days: ReadonlySet<number>;
  /** `L` (0) and `L-n` (n): days counted back from the month's last day. */
  fromLast: readonly number[];
  /** `nW`: the weekday (Mon-Fri) nearest to day n, never leaving the month. */
  nearestWeekday: readonly number[];
  /** `LW`: the month's last weekday. */
  lastWeekday: boolean;
}

export interface DayOfWeekRule {
  /** Plain weekdays, 0 = Sunday .. 6 = Saturday whatever the source numbering. */
  days: ReadonlySet<number>;
  /** `d#n`: the n-th such weekday of the month (1..5). */
  nth: ReadonlyArray<{ dow: number; n: number }>;
  /** `dL`: the last such weekday of the month. */
  last: readonly number[];
}

export interface CronSpec {
  /** The expression as written. */
  source: string;
  form: CronForm;
  /** Ascending, deduplicated. */
  seconds: readonly number[];
  minutes: readonly number[];
  hours: readonly number[];
  months: ReadonlySet<number>;
  /** null = every year. */
  years: ReadonlySet<number> | null;
  dom: DayOfMonthRule;
  dow: DayOfWeekRule;
  /** The field was `*` or `?` (Vixie cron also counts `*` followed by a step): it does not restrict. */
  domUnrestricted: boolean;
  dowUnrestricted: boolean;
  /**
   * True when the schedule fires more than once per hour (more than one minute/second pair).
   * Such schedules are "interval-like": on a fall-back day they fire at every matching instant,
   * both passes through the repeated hour, so their real-time spacing holds (`*\/15`, `0,30`,
   * `* * * * *`, Quartz `0/10 * ...`). Schedules with exactly one minute and one second value
   * name a fixed wall-clock time (daily `30 1 * * *`, hourly `0 * * * *`): a repeated wall time
   * fires once, at its first occurrence. The rule looks at the expanded sets, not the syntax, so
   * `0,15,30,45` and `*\/15` behave the same.
   */
  intervalLike: boolean;
}
