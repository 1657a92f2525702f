import { createTokenInstance, type IToken, type TokenType } from 'chevrotain';
import type { Pos } from './ast.js';
import * as T from './lexer.js';

/**
 * The tokens of a program, as the Chevrotain lexer in lexer.ts makes them (same types, images,
 * offsets, lines and columns), kept in columns that are reused from one program to the next.
 * Chevrotain's generic loop and one object per token cost more than the program's own tokens
 * on the short programs SEL mostly compiles; the fast parser reads these columns instead.
 * Anything this scanner does not expect, bad input included, makes it give up: the Chevrotain
 * lexer then decides, so its error messages stay the only ones. Tests compare the two lexers
 * token by token.
 */
/**
 * Places on the first line, made once and shared (frozen) by every tree: most programs are one
 * line, and the place of every node is then one of these instead of a new object.
 */
const SHARED_POSITIONS = 4096;
const firstLine: (Pos | undefined)[] = new Array<Pos | undefined>(SHARED_POSITIONS).fill(undefined);

export class ScannedTokens {
  count = 0;
  readonly types: TokenType[] = [];
  /**
   * The image; for a string literal, the text between its quotes (the parser wants only that).
   * Names and string contents are interned, see `intern`.
   */
  readonly images: string[] = [];
  readonly starts: number[] = [];
  /**
   * Offset where each line starts, the first at 0: a token's line and column are found from its
   * offset when a tree node needs them, as most programs are one line.
   */
  readonly lineStarts: number[] = [0];
  lineCount = 1;
  /** Deepest nesting of (), [] and {}, which the parser's nesting limit may refuse. */
  maxBracketDepth = 0;

  push(type: TokenType, image: string, start: number): void {
    const k = this.count++;
    this.types[k] = type;
    this.images[k] = image;
    this.starts[k] = start;
  }

  /** Starts a line at `offset` (after a line terminator, or where Maestro mode adds its `;`). */
  newLine(offset: number): void {
    this.lineStarts[this.lineCount++] = offset;
  }

  /** Line (1-based) of an offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** Where token `k` starts, as the Chevrotain lexer reports it. */
  pos(k: number): Pos {
    const offset = this.starts[k]!;
    if (this.lineCount === 1) return offset < SHARED_POSITIONS ? (firstLine[offset] ??= Object.freeze({ line: 1, column: offset + 1, offset })) : { line: 1, column: offset + 1, offset };
    const line = this.lineOf(offset);
    return { line, column: offset - this.lineStarts[line - 1]! + 1, offset };
  }

  /** Chevrotain token objects of these tokens (tests compare them with the lexer's). */
  toTokens(source: string): IToken[] {
    const out: IToken[] = [];
    for (let k = 0; k < this.count; k++) {
      const type = this.types[k]!;
      const start = this.starts[k]!;
      const image = type === T.StringLiteral ? source.substring(start, start + this.images[k]!.length + 2) : this.images[k]!;
      const { line, column } = this.pos(k);
      out.push(createTokenInstance(type, image, start, start + image.length - 1, line, line, column, column + image.length - 1));
    }
    return out;
  }
}

/**
 * Interned names and string contents: the same program text yields the same string objects, so
 * the lookups by name that follow (classes, methods, variables, formatter patterns) find strings
 * whose hash is known, and no substring is built for a name seen before. One slot per hash,
 * replaced on collision, and short texts only: bounded tables that only ever save work.
 */
const INTERN_SLOTS = 2048;
interface Interned {
  text: string;
  type: TokenType;
  /**
   * The text's characters, which the scanner compares: once a string has served as a property
   * key V8 turns it into a reference to its internalized copy, and reading its characters one by
   * one through that reference is several times slower.
   */
  codes: Uint16Array;
}
const names: (Interned | undefined)[] = new Array<Interned | undefined>(INTERN_SLOTS).fill(undefined);
const texts: (Interned | undefined)[] = new Array<Interned | undefined>(INTERN_SLOTS).fill(undefined);

/**
 * Is the interned text the one between `start` and `end`? Compared by char code: String#startsWith
 * would first check that its argument is no RegExp, and String#indexOf searches on past a mismatch.
 */
function sameText(known: Interned, text: string, start: number, end: number): boolean {
  const codes = known.codes;
  const n = end - start;
  if (codes.length !== n) return false;
  for (let k = 0; k < n; k++) if (text.charCodeAt(start + k) !== codes[k]) return false;
  return true;
}

/** Longer texts are not kept: the tables stay small whatever the programs. */
const INTERN_MAX_LENGTH = 64;

/**
 * A copy of part of a program that does not keep the program alive: V8 makes a substring of 13
 * characters or more a view of the whole text, which a table entry would then hold on to.
 */
function detached(text: string, start: number, end: number): string {
  return (' ' + text.substring(start, end)).slice(1);
}

function codesOf(text: string, start: number, end: number): Uint16Array {
  const codes = new Uint16Array(end - start);
  for (let k = start; k < end; k++) codes[k - start] = text.charCodeAt(k);
  return codes;
}

function name(text: string, start: number, end: number): Interned | undefined {
  if (end - start > INTERN_MAX_LENGTH) return undefined;
  const slot = hashOf(text, start, end) & (INTERN_SLOTS - 1);
  const known = names[slot];
  if (known !== undefined && sameText(known, text, start, end)) return known;
  const keyword = T.keywordAt(text, start, end - start);
  const codes = codesOf(text, start, end);
  const entry = keyword === undefined ? { text: detached(text, start, end), type: T.Identifier, codes } : { text: keyword.word, type: keyword.type, codes };
  names[slot] = entry;
  return entry;
}

/**
 * Names of up to PACKED_MAX characters are interned by their characters packed into three
 * numbers (7 bits a character, 7 characters a number: exact in a double), which the scanning loop
 * computes as it reads them: a table entry is then found and confirmed by comparing numbers, not
 * by reading the name's characters again.
 */
const PACKED_MAX = 21;
interface PackedName {
  length: number;
  a: number;
  b: number;
  c: number;
  text: string;
  type: TokenType;
}
const packedNames: (PackedName | undefined)[] = new Array<PackedName | undefined>(INTERN_SLOTS).fill(undefined);

function packedName(text: string, start: number, end: number, a: number, b: number, c: number): PackedName {
  const length = end - start;
  let h = (a | 0) ^ Math.imul(b | 0, 0x2f0b3) ^ Math.imul(c | 0, 0x6d2b79f5) ^ (length << 24) ^ (a / 4294967296);
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  h ^= h >>> 15;
  const slot = h & (INTERN_SLOTS - 1);
  const known = packedNames[slot];
  if (known !== undefined && known.a === a && known.b === b && known.c === c && known.length === length) return known;
  const keyword = T.keywordAt(text, start, length);
  const entry =
    keyword === undefined
      ? { length, a, b, c, text: detached(text, start, end), type: T.Identifier }
      : { length, a, b, c, text: keyword.word, type: keyword.type };
  packedNames[slot] = entry;
  return entry;
}

function content(text: string, start: number, end: number): string {
  if (end - start > INTERN_MAX_LENGTH) return text.substring(start, end);
  const slot = hashOf(text, start, end) & (INTERN_SLOTS - 1);
  const known = texts[slot];
  if (known !== undefined && sameText(known, text, start, end)) return known.text;
  const entry = { text: detached(text, start, end), type: T.StringLiteral, codes: codesOf(text, start, end) };
  texts[slot] = entry;
  return entry.text;
}

/**
 * The intern slot's hash of a text: its length and four of its characters, so that no loop over
 * the text is needed (the comparison that follows decides; a collision only costs a substring).
 */
function hashOf(text: string, start: number, end: number): number {
  const n = end - start;
  if (n === 0) return 0;
  const h = n * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1) * 131 + text.charCodeAt(start + (n >> 1)) * 17 + text.charCodeAt(start + (n >> 2)) * 1031;
  return h ^ (h >>> 7);
}

const NAME_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) NAME_PART[c] = T.isIdentStart(c) || T.isDigit(c) ? 1 : 0;

/** Is the operator `op` (its first character already matched) at `i`? */
function operatorAt(op: string, text: string, i: number): boolean {
  for (let k = 1; k < op.length; k++) if (text.charCodeAt(i + k) !== op.charCodeAt(k)) return false;
  return true;
}

/** Multi-character operators by first character, in the lexer's order of trial; single ones apart. */
const LONGER_OPERATORS: { text: string; type: TokenType }[][] = [];
const SINGLE_OPERATOR: (TokenType | undefined)[] = [];
for (let c = 0; c < 128; c++) {
  for (const o of T.OPERATORS_BY_FIRST[c] ?? []) {
    if (o.text.length > 1) (LONGER_OPERATORS[c] ??= []).push(o);
    else SINGLE_OPERATOR[c] = o.type;
  }
}
// A single-character operator is tried after every longer one with the same first character.
for (let c = 0; c < 128; c++) {
  const longer = T.OPERATORS_BY_FIRST[c];
  if (longer !== undefined && SINGLE_OPERATOR[c] !== undefined && longer[longer.length - 1]!.text.length !== 1) {
    throw new Error(`lexer order: '${String.fromCharCode(c)}' is tried before a longer operator`);
  }
}

const shared = new ScannedTokens();

/** Scans a program into the shared columns (valid until the next call), or null to give up. */
export function scan(text: string): ScannedTokens | null {
  const out = shared;
  out.count = 0;
  out.lineCount = 1;
  const n = text.length;
  let i = 0;
  let depth = 0;
  let maxDepth = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    // Blanks, tabs, form feeds: skipped; only the column moves.
    if (c === 32 || c === 9 || c === 12) {
      i++;
      continue;
    }
    // Line terminators as Chevrotain counts them: \n, \r\n, \r.
    if (c === 10 || c === 13) {
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      out.newLine(i);
      continue;
    }
    const start = i;
    if (T.isIdentStart(c)) {
      i++;
      // The characters packed as they are read (see packedName): 7 a number.
      // One loop per number, so that no character needs to ask which number it goes into.
      let a = c;
      let b = 0;
      let p = 0;
      let stop = start + 7 < n ? start + 7 : n;
      let d: number;
      while (i < stop && (d = text.charCodeAt(i)) < 128 && NAME_PART[d] === 1) {
        a = a * 128 + d;
        i++;
      }
      if (i === start + 7) {
        stop = start + 14 < n ? start + 14 : n;
        while (i < stop && (d = text.charCodeAt(i)) < 128 && NAME_PART[d] === 1) {
          b = b * 128 + d;
          i++;
        }
        if (i === start + 14) {
          while (i < n && (d = text.charCodeAt(i)) < 128 && NAME_PART[d] === 1) {
            p = p * 128 + d;
            i++;
          }
        }
      }
      if (i - start <= PACKED_MAX) {
        const known = packedName(text, start, i, a, b, p);
        out.push(known.type, known.text, start);
        continue;
      }
      const entry = name(text, start, i);
      if (entry !== undefined) out.push(entry.type, entry.text, start);
      else out.push(T.Identifier, text.substring(start, i), start);
      continue;
    }
    if (T.isDigit(c) || (c === 46 && T.isDigit(text.charCodeAt(i + 1)))) {
      let end = i;
      while (T.isDigit(text.charCodeAt(end))) end++;
      const next = text.charCodeAt(end);
      const doubleEnd = next === 46 || next === 101 || next === 69 || T.isFloatSuffix(next) ? T.doubleEnd(text, i) : -1;
      let type: TokenType;
      if (doubleEnd >= 0) {
        type = T.DoubleLiteral;
        i = doubleEnd;
      } else {
        type = T.LongLiteral;
        i = next === 108 || next === 76 ? end + 1 : end;
      }
      out.push(type, text.substring(start, i), start);
      continue;
    }
    if (c === 39 || c === 34) {
      const end = T.stringEnd(text, i);
      if (end < 0) return null;
      out.push(T.StringLiteral, content(text, start + 1, end - 1), start);
      i = end;
      continue;
    }
    if (c === 47) {
      const second = text.charCodeAt(i + 1);
      if (second === 47) {
        // A line comment runs to the line's end, which is left for the line break.
        i += 2;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 10 || d === 13) break;
          i++;
        }
        continue;
      }
      if (second === 42) {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) return null;
        for (let k = i + 2; k < end; k++) {
          const d = text.charCodeAt(k);
          if (d === 10 || (d === 13 && text.charCodeAt(k + 1) !== 10)) out.newLine(k + 1);
        }
        i = end + 2;
        continue;
      }
    }
    if (c === 46) {
      out.push(T.Dot, '.', start);
      i++;
      continue;
    }
    let type = SINGLE_OPERATOR[c];
    let image: string | undefined;
    const longer = LONGER_OPERATORS[c];
    if (longer !== undefined) {
      for (const o of longer) {
        if (operatorAt(o.text, text, i)) {
          type = o.type;
          image = o.text;
          break;
        }
      }
    }
    if (type === undefined) return null;
    if (image === undefined) {
      image = text.charAt(i);
      if (c === 40 || c === 91 || c === 123) {
        if (++depth > maxDepth) maxDepth = depth;
      } else if (c === 41 || c === 93 || c === 125) {
        depth--;
      }
    }
    i += image.length;
    out.push(type, image, start);
  }
  out.maxBracketDepth = maxDepth;
  return out;
}
