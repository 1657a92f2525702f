import type { HostContext } from '../host-context.js';
import type { JavaPattern } from './java-regex.js';

/**
 * Searches with a compiled pattern over one string, counting the engine's work as it goes.
 *
 * RE2 matches in time linear in the input for one search, but a find-all loop (split, replaceAll)
 * can still be quadratic: each search may read far past the match it returns (`a*b|a` over a long
 * run of `a`s reads to the end of the input for every single-character match). So the input the
 * engines read from is this class, which counts every character step and stops the search as soon
 * as the evaluation's work budget (the steps limit) is spent; the count is charged afterwards.
 * It implements re2js's MachineInput interface (the UTF-16 one, with the same results).
 */
const EOF = -8;
/**
 * Work units per engine step over one character and compiled instruction, and per search. Measured
 * on re2js's NFA over inputs of 20K to 1M characters: 10 to 40 ns per instruction and character,
 * against some 100 ns (64 units) per evaluation step; setting up a search (with its capture
 * arrays) takes from under one to a few microseconds.
 */
const STEP_UNITS = 24;
const SEARCH_UNITS = 128;
/**
 * re2js backtracks (with a visited bitmap of instructions × input length, cleared on every search)
 * while that bitmap stays within this many bits; clearing 256 bits costs about a work unit.
 */
const BITSTATE_BITS = 262144;

class OverBudget extends Error {}

const isWord = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

interface Prefilter {
  str: string;
}

interface Prefixed {
  prefix: string;
}

export class CountingInput {
  readonly start = 0;
  readonly end: number;
  /** Character steps taken and the most allowed, for the search under way. */
  steps = 0;
  allowed = 0;

  constructor(readonly text: string) {
    this.end = text.length;
  }

  canCheckPrefix(): boolean {
    return true;
  }

  endPos(): number {
    return this.end;
  }

  private scanned(from: number, found: number): void {
    this.steps += ((found < 0 ? this.end : found) - from) >> 3;
    if (this.steps > this.allowed) throw new OverBudget();
  }

  hasString(prefilter: Prefilter, pos: number): boolean {
    const idx = this.text.indexOf(prefilter.str, pos);
    this.scanned(pos, idx);
    return idx !== -1 && idx <= this.end - prefilter.str.length;
  }

  /** Any of several literals: left to the engine, whose steps are counted. */
  hasAnyString(): boolean {
    return true;
  }

  step(pos: number): number {
    if (++this.steps > this.allowed) throw new OverBudget();
    if (pos >= this.end) return EOF;
    const c1 = this.text.charCodeAt(pos);
    if (c1 < 0xd800 || c1 > 0xdbff || pos + 1 >= this.end) return (c1 << 3) | 1;
    const c2 = this.text.charCodeAt(pos + 1);
    if (c2 >= 0xdc00 && c2 <= 0xdfff) return (((c1 - 0xd800) * 1024 + (c2 - 0xdc00) + 0x10000) << 3) | 2;
    return (c1 << 3) | 1;
  }

  index(re2: Prefixed, pos: number): number {
    const i = this.text.indexOf(re2.prefix, pos);
    this.scanned(pos, i);
    if (i < 0 || i > this.end - re2.prefix.length) return -1;
    return i - pos;
  }

  /** re2js's empty-width context: begin/end of text and line, word boundary. */
  context(pos: number): number {
    const r1 = pos > 0 && pos <= this.end ? this.text.charCodeAt(pos - 1) : -1;
    const r2 = pos < this.end ? this.text.charCodeAt(pos) : -1;
    let op = 0;
    if (r1 < 0) op |= 4 | 1;
    if (r1 === 10) op |= 1;
    if (r2 < 0) op |= 8 | 2;
    if (r2 === 10) op |= 2;
    op |= isWord(r1) !== isWord(r2) ? 16 : 32;
    return op;
  }

  prefixLength(re2: Prefixed): number {
    return re2.prefix.length;
  }
}

/**
 * The leftmost-first match of `p` in `input` at or after `pos`: [start, end, group1start,
 * group1end, ...] (-1 for a group that did not take part), or null. Charges the work to `ctx`.
 */
export function regexFind(ctx: HostContext, p: JavaPattern, input: CountingInput, pos: number): number[] | null {
  const unit = STEP_UNITS * p.weight;
  input.steps = 0;
  const bits = p.weight * (input.end + 1);
  ctx.chargeWork(SEARCH_UNITS + (bits <= BITSTATE_BITS ? bits >> 8 : 0));
  input.allowed = Math.floor(ctx.workLeft() / unit);
  let found: number[] | null;
  try {
    found = p.re2.executeEngine(input, pos, 0, 2 * (1 + p.groupCount)) as number[] | null;
  } catch (e) {
    if (!(e instanceof OverBudget)) throw e;
    ctx.chargeWork(ctx.workLeft() + 1e9);
    throw e;
  }
  ctx.chargeWork(input.steps * unit);
  return found;
}
