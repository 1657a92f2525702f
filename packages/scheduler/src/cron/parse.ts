import { TriggerError } from './errors.js';
import type { CronForm, CronSpec, DayOfMonthRule, DayOfWeekRule } from './spec.js';

/** Predefined schedules, as their Unix equivalents. */
export const PREDEFINED: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

// Quartz accepts years 1970-2099; Baton uses the same bounds for both forms.
const MIN_YEAR = 1970;
const MAX_YEAR = 2099;

type FieldKind = 'second' | 'minute' | 'hour' | 'day-of-month' | 'month' | 'day-of-week' | 'year';

interface FieldDef {
  kind: FieldKind;
  min: number;
  max: number;
  names?: readonly string[];
  /** Value the first name maps to (JAN = 1; SUN = 0 in Unix, 1 in Quartz). */
  nameBase?: number;
}

class FieldContext {
  constructor(
    readonly expr: string,
    readonly def: FieldDef,
    readonly position: number,
    readonly text: string,
  ) {}

  fail(reason: string): never {
    throw new TriggerError(
      `invalid cron "${this.expr}": ${this.def.kind} field (position ${this.position}) "${this.text}": ${reason}`,
      'cron',
      this.def.kind,
      this.position,
    );
  }

  value(token: string): number {
    const upper = token.toUpperCase();
    if (this.def.names) {
      const idx = this.def.names.indexOf(upper);
      if (idx >= 0) return idx + (this.def.nameBase ?? 0);
    }
    if (!/^\d+$/.test(token)) {
      const hint = this.def.names ? ` or a name (${this.def.names.join(', ')})` : '';
      this.fail(`"${token}" is not a number${hint}`);
    }
    const n = Number(token);
    if (n < this.def.min || n > this.def.max) this.fail(`${n} is outside ${this.def.min}-${this.def.max}`);
    return n;
  }
}

/** Expands `*`, `a`, `a-b`, `*\/s`, `a/s`, `a-b/s` (one list item) into values. */
function expandItem(ctx: FieldContext, item: string): number[] {
  const [rangePart, stepPart, extra] = item.split('/');
  if (extra !== undefined || rangePart === undefined || rangePart === '') ctx.fail(`"${item}" is not a value, range or step`);
  let lo: number;
  let hi: number;
  if (rangePart === '*') {
    lo = ctx.def.min;
    hi = ctx.def.max;
  } else if (rangePart.includes('-')) {
    const [a, b, more] = rangePart.split('-');
    if (more !== undefined || !a || !b) ctx.fail(`"${rangePart}" is not a range`);
    lo = ctx.value(a);
    hi = ctx.value(b);
    if (lo > hi) ctx.fail(`range ${a}-${b} runs backwards`);
  } else {
    lo = ctx.value(rangePart);
    // Quartz `a/s` means "from a to the field's maximum in steps of s".
    hi = stepPart === undefined ? lo : ctx.def.max;
  }
  let step = 1;
  if (stepPart !== undefined) {
    if (!/^\d+$/.test(stepPart)) ctx.fail(`step "${stepPart}" is not a number`);
    step = Number(stepPart);
    if (step < 1) ctx.fail('step must be at least 1');
    if (step > ctx.def.max - ctx.def.min + 1) ctx.fail(`step ${step} is larger than the field's range ${ctx.def.min}-${ctx.def.max}`);
  }
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

function plainField(ctx: FieldContext): number[] {
  const set = new Set<number>();
  for (const item of splitList(ctx)) for (const v of expandItem(ctx, item)) set.add(v);
  return [...set].sort((a, b) => a - b);
}

function splitList(ctx: FieldContext): string[] {
  const items = ctx.text.split(',');
  if (items.some((i) => i === '')) ctx.fail('empty list item');
  return items;
}

function dayOfMonthField(ctx: FieldContext): DayOfMonthRule {
  const days = new Set<number>();
  const fromLast: number[] = [];
  const nearestWeekday: number[] = [];
  let lastWeekday = false;
  for (const raw of splitList(ctx)) {
    const item = raw.toUpperCase();
    if (item === '?') {
      if (ctx.text !== '?') ctx.fail('"?" cannot be combined with other values');
      for (let d = 1; d <= 31; d++) days.add(d);
    } else if (item === 'LW') {
      lastWeekday = true;
    } else if (item === 'L') {
      fromLast.push(0);
    } else if (/^L-\d+$/.test(item)) {
      const n = Number(item.slice(2));
      if (n > 30) ctx.fail(`"L-${n}": offset must be 0-30`);
      fromLast.push(n);
    } else if (/^\d+W$/.test(item)) {
      nearestWeekday.push(ctx.value(item.slice(0, -1)));
    } else if (item.includes('L') || item.includes('W')) {
      ctx.fail(`"${raw}": L and W are written L, L-n, nW or LW`);
    } else {
      for (const v of expandItem(ctx, raw)) days.add(v);
    }
  }
  return { days, fromLast, nearestWeekday, lastWeekday };
}

function dayOfWeekField(ctx: FieldContext, quartz: boolean): DayOfWeekRule {
  // Normalise to 0 = Sunday. Unix: 0-7 with 0 and 7 both Sunday. Quartz: 1-7, 1 = Sunday.
  const norm = (v: number): number => (quartz ? v - 1 : v % 7);
  const days = new Set<number>();
  const nth: Array<{ dow: number; n: number }> = [];
  const last: number[] = [];
  for (const raw of splitList(ctx)) {
    const item = raw.toUpperCase();
    if (item === '?') {
      if (ctx.text !== '?') ctx.fail('"?" cannot be combined with other values');
      for (let d = 0; d < 7; d++) days.add(d);
    } else if (item === 'L') {
      // Quartz: a bare L in day-of-week is the last day of the week, Saturday.
      days.add(6);
    } else if (/^\w+L$/.test(item)) {
      last.push(norm(ctx.value(item.slice(0, -1))));
    } else if (item.includes('#')) {
      const [d, n, more] = item.split('#');
      if (more !== undefined || !d || !n || !/^[1-5]$/.test(n)) ctx.fail(`"${raw}": write d#n with n from 1 to 5`);
      nth.push({ dow: norm(ctx.value(d)), n: Number(n) });
    } else {
      for (const v of expandItem(ctx, raw)) days.add(norm(v));
    }
  }
  return { days, nth, last };
}

const isUnrestricted = (text: string): boolean => text === '?' || text.startsWith('*');

/**
 * Parses a 5-field Unix cron, a 6/7-field Quartz cron (seconds first, optional year), or a
 * predefined `@name`. Quartz numbers weekdays 1-7 from Sunday; Unix 0-7 with 0 and 7 Sunday.
 * Throws `TriggerError` naming the field and position at fault.
 */
export function parseCron(expression: string): CronSpec {
  if (typeof expression !== 'string') throw new TriggerError('cron expression must be a string', 'cron');
  const source = expression.trim();
  if (source === '') throw new TriggerError('cron expression is empty', 'cron');
  if (source.startsWith('@')) {
    const unix = PREDEFINED[source.toLowerCase()];
    if (!unix) {
      throw new TriggerError(`unknown predefined schedule "${source}"; use one of ${Object.keys(PREDEFINED).join(', ')}`, 'cron');
    }
    return { ...parseFields(unix, unix.split(' '), 'unix'), source, form: 'predefined' };
  }
  const parts = source.split(/\s+/);
  if (parts.length === 5) return parseFields(source, parts, 'unix');
  if (parts.length === 6 || parts.length === 7) return parseFields(source, parts, 'quartz');
  throw new TriggerError(
    `invalid cron "${source}": has ${parts.length} fields; expected 5 (Unix: minute hour day-of-month month day-of-week) or 6-7 (Quartz: second minute hour day-of-month month day-of-week [year])`,
    'cron',
  );
}

function parseFields(expr: string, parts: string[], form: CronForm): CronSpec {
  const quartz = form === 'quartz';
  const at = (i: number): string => parts[i] ?? '';
  const offset = quartz ? 1 : 0;
  const ctx = (i: number, def: FieldDef): FieldContext => new FieldContext(expr, def, i + 1, at(i));

  const seconds = quartz ? plainField(ctx(0, { kind: 'second', min: 0, max: 59 })) : [0];
  const minutes = plainField(ctx(offset, { kind: 'minute', min: 0, max: 59 }));
  const hours = plainField(ctx(offset + 1, { kind: 'hour', min: 0, max: 23 }));
  const domText = at(offset + 2);
  const dowText = at(offset + 4);
  const dom = dayOfMonthField(ctx(offset + 2, { kind: 'day-of-month', min: 1, max: 31 }));
  const months = new Set(plainField(ctx(offset + 3, { kind: 'month', min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 })));
  const dowDef: FieldDef = quartz
    ? { kind: 'day-of-week', min: 1, max: 7, names: DAY_NAMES, nameBase: 1 }
    : { kind: 'day-of-week', min: 0, max: 7, names: DAY_NAMES, nameBase: 0 };
  const dow = dayOfWeekField(ctx(offset + 4, dowDef), quartz);
  let years: Set<number> | null = null;
  if (quartz && parts.length === 7 && !isUnrestricted(at(6))) {
    years = new Set(plainField(ctx(6, { kind: 'year', min: MIN_YEAR, max: MAX_YEAR })));
  }
  if (domText === '?' && dowText === '?') {
    throw new TriggerError(
      `invalid cron "${expr}": day-of-month (position ${offset + 3}) and day-of-week (position ${offset + 5}) cannot both be "?"`,
      'cron',
      'day-of-week',
      offset + 5,
    );
  }
  const domUnrestricted = isUnrestricted(domText);
  const dowUnrestricted = isUnrestricted(dowText);
  if (quartz && !domUnrestricted && !dowUnrestricted) {
    throw new TriggerError(
      `invalid cron "${expr}": Quartz form cannot restrict both day-of-month (position ${offset + 3}) and day-of-week (position ${offset + 5}); write "?" in one of them`,
      'cron',
      'day-of-week',
      offset + 5,
    );
  }
  return {
    source: expr,
    form,
    seconds,
    minutes,
    hours,
    months,
    years,
    dom,
    dow,
    domUnrestricted,
    dowUnrestricted,
    intervalLike: seconds.length * minutes.length > 1,
  };
}
