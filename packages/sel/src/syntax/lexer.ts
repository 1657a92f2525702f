import { createToken, Lexer, type CustomPatternMatcherReturn, type ILexingResult, type IToken, type TokenType } from 'chevrotain';
import { SelError } from '../errors.js';

/**
 * Tokens of SEL. Java operators and keywords that SEL does not support are still recognised as
 * tokens (category `Unsupported`) so the parser can name them in its error instead of failing
 * on an odd character.
 *
 * Names, keywords, numbers and multi-character operators are matched by small char-code scanners
 * (Chevrotain custom patterns) rather than regular expressions: a sticky RegExp test costs more
 * than the whole token on the short programs SEL mostly sees, and a keyword that checks its own
 * word boundary needs no second, longer-alternative match against Identifier.
 */
export const isIdentStart = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
const isIdentPart = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57);
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Characters that continue a name, by char code: one load per character of the longer names. */
const IDENT_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) IDENT_PART[c] = isIdentPart(c) ? 1 : 0;

/** The lexer reads `[0]` (and `payload`) of a match right away, so one array serves every match. */
const hit = [''] as CustomPatternMatcherReturn;
const matched = (image: string): CustomPatternMatcherReturn => {
  hit[0] = image;
  return hit;
};

const IDENT_START_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$'];
const DIGITS = [...'0123456789'];

/**
 * Every keyword, supported or not, by its first character. Identifier is tried first and leaves
 * these words to their own tokens, so an ordinary name costs one match instead of one per
 * keyword sharing its first letter.
 */
const KEYWORDS_BY_FIRST: { word: string; type: TokenType }[][] = [];

/** The keyword that the name of `length` characters at `offset` is, if any. Compared in place: no hashing. */
export function keywordAt(text: string, offset: number, length: number): { word: string; type: TokenType } | undefined {
  const words = KEYWORDS_BY_FIRST[text.charCodeAt(offset)];
  if (words === undefined) return undefined;
  for (const k of words) if (k.word.length === length && text.startsWith(k.word, offset)) return k;
  return undefined;
}

/** End of the name whose characters continue at `from`. */
export function nameEnd(text: string, from: number): number {
  const n = text.length;
  let end = from;
  while (end < n) {
    const c = text.charCodeAt(end);
    if (c < 128 && IDENT_PART[c] === 1) end++;
    else break;
  }
  return end;
}

export const Identifier = createToken({
  name: 'Identifier',
  pattern: {
    exec: (text: string, offset: number) => {
      if (!isIdentStart(text.charCodeAt(offset))) return null;
      const end = nameEnd(text, offset + 1);
      return keywordAt(text, offset, end - offset) !== undefined ? null : matched(text.substring(offset, end));
    },
  },
  start_chars_hint: IDENT_START_CHARS,
  line_breaks: false,
});

/** A fixed word or operator: matched by comparing characters, optionally only at a word boundary. */
function literalPattern(word: string, wholeWord: boolean): { exec: (text: string, offset: number) => CustomPatternMatcherReturn | null } {
  const image = [word] as CustomPatternMatcherReturn;
  const n = word.length;
  if (n === 2 && !wholeWord) {
    // Most operators: a second character to look at (the first one chose this pattern).
    const first = word.charCodeAt(0);
    const second = word.charCodeAt(1);
    return { exec: (text: string, offset: number) => (text.charCodeAt(offset + 1) === second && text.charCodeAt(offset) === first ? image : null) };
  }
  return {
    exec: (text: string, offset: number) =>
      text.startsWith(word, offset) && !(wholeWord && isIdentPart(text.charCodeAt(offset + n))) ? image : null,
  };
}

function keyword(word: string, name: string, categories: TokenType[] = []): TokenType {
  const type = createToken({ name, pattern: literalPattern(word, true), start_chars_hint: [word[0]!], line_breaks: false, categories });
  (KEYWORDS_BY_FIRST[word.charCodeAt(0)] ??= []).push({ word, type });
  return type;
}

export const Unsupported = createToken({ name: 'Unsupported', pattern: Lexer.NA });
export const BinaryOp = createToken({ name: 'BinaryOp', pattern: Lexer.NA });
export const AssignOp = createToken({ name: 'AssignOp', pattern: Lexer.NA });
/** `-`, `+` and `!` in front of an operand. */
export const PrefixOp = createToken({ name: 'PrefixOp', pattern: Lexer.NA });

export const Import = keyword('import', 'Import');
export const If = keyword('if', 'If');
export const Else = keyword('else', 'Else');
export const While = keyword('while', 'While');
export const For = keyword('for', 'For');
export const Break = keyword('break', 'Break');
export const Continue = keyword('continue', 'Continue');
export const Return = keyword('return', 'Return');
export const Throw = keyword('throw', 'Throw');
export const New = keyword('new', 'New');
export const True = keyword('true', 'True');
export const False = keyword('false', 'False');
export const Null = keyword('null', 'Null');

const unsupportedWords = [
  'do', 'switch', 'case', 'default', 'try', 'catch', 'finally', 'class', 'interface', 'enum',
  'extends', 'implements', 'instanceof', 'synchronized', 'goto', 'this', 'super', 'static',
  'final', 'public', 'private', 'protected', 'abstract', 'native', 'transient', 'volatile',
  'strictfp', 'assert', 'package', 'const', 'void',
];
const unsupportedKeywords = unsupportedWords.map((w) => keyword(w, `Kw_${w}`, [Unsupported]));

/** The text of every operator and punctuation token type. */
const OPERATOR_TEXT = new Map<TokenType, string>();

/** Single characters are plain string patterns, which Chevrotain compares by char code itself. */
function op(name: string, pattern: string, categories: TokenType[] = []): TokenType {
  const type = pattern.length === 1
    ? createToken({ name, pattern, categories })
    : createToken({ name, pattern: literalPattern(pattern, false), start_chars_hint: [pattern[0]!], line_breaks: false, categories });
  OPERATOR_TEXT.set(type, pattern);
  return type;
}

const unsupportedOps = [
  ['UShiftAssign', '>>>='], ['ShlAssign', '<<='], ['ShrAssign', '>>='], ['UShift', '>>>'],
  ['Shr', '>>'], ['Shl', '<<'], ['Inc', '++'], ['Dec', '--'], ['Arrow', '->'], ['ColonColon', '::'],
  ['AndAssign', '&='], ['OrAssign', '|='], ['XorAssign', '^='],
].map(([n, p]) => op(n!, p!, [Unsupported]));

export const EqEq = op('EqEq', '==', [BinaryOp]);
export const NotEq = op('NotEq', '!=', [BinaryOp]);
export const LtEq = op('LtEq', '<=', [BinaryOp]);
export const GtEq = op('GtEq', '>=', [BinaryOp]);
export const AndAnd = op('AndAnd', '&&', [BinaryOp]);
export const OrOr = op('OrOr', '||', [BinaryOp]);
export const PlusAssign = op('PlusAssign', '+=', [AssignOp]);
export const MinusAssign = op('MinusAssign', '-=', [AssignOp]);
export const StarAssign = op('StarAssign', '*=', [AssignOp]);
export const SlashAssign = op('SlashAssign', '/=', [AssignOp]);
export const PercentAssign = op('PercentAssign', '%=', [AssignOp]);
export const Assign = op('Assign', '=', [AssignOp]);
export const Lt = op('Lt', '<', [BinaryOp]);
export const Gt = op('Gt', '>', [BinaryOp]);
export const Bang = op('Bang', '!', [PrefixOp]);
export const Plus = op('Plus', '+', [BinaryOp, PrefixOp]);
export const Minus = op('Minus', '-', [BinaryOp, PrefixOp]);
export const Star = op('Star', '*', [BinaryOp]);
export const Slash = op('Slash', '/', [BinaryOp]);
export const Percent = op('Percent', '%', [BinaryOp]);
export const Question = op('Question', '?');
export const Colon = op('Colon', ':');
const singleUnsupported = [['Amp', '&'], ['Pipe', '|'], ['Caret', '^'], ['Tilde', '~'], ['At', '@'], ['Hash', '#']]
  .map(([n, p]) => op(n!, p!, [Unsupported]));
export const LParen = op('LParen', '(');
export const RParen = op('RParen', ')');
export const LBracket = op('LBracket', '[');
export const RBracket = op('RBracket', ']');
export const LBrace = op('LBrace', '{');
export const RBrace = op('RBrace', '}');
export const Semicolon = op('Semicolon', ';');
export const Comma = op('Comma', ',');

/** End of an exponent (`e`, optional sign, digits) starting at `i`, or `i` when there is none. */
function exponentEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c !== 101 && c !== 69) return i;
  let j = i + 1;
  const sign = text.charCodeAt(j);
  if (sign === 43 || sign === 45) j++;
  let k = j;
  while (isDigit(text.charCodeAt(k))) k++;
  return k > j ? k : i;
}

export const isFloatSuffix = (c: number): boolean => c === 102 || c === 70 || c === 100 || c === 68;

/**
 * Java floating-point literals: `1.5`, `1.`, `.5`, `1e3`, each with an optional exponent and
 * f/d suffix, and `1f`/`1d`.
 */
export function doubleEnd(text: string, offset: number): number {
  let i = offset;
  while (isDigit(text.charCodeAt(i))) i++;
  const intDigits = i - offset;
  if (text.charCodeAt(i) === 46) {
    let j = i + 1;
    while (isDigit(text.charCodeAt(j))) j++;
    if (intDigits === 0 && j === i + 1) return -1;
    const end = exponentEnd(text, j);
    return isFloatSuffix(text.charCodeAt(end)) ? end + 1 : end;
  }
  if (intDigits === 0) return -1;
  const end = exponentEnd(text, i);
  if (end > i) return isFloatSuffix(text.charCodeAt(end)) ? end + 1 : end;
  return isFloatSuffix(text.charCodeAt(i)) ? i + 1 : -1;
}

export const DoubleLiteral = createToken({
  name: 'DoubleLiteral',
  pattern: {
    exec: (text: string, offset: number) => {
      const end = doubleEnd(text, offset);
      return end < 0 ? null : matched(text.substring(offset, end));
    },
  },
  start_chars_hint: [...DIGITS, '.'],
  line_breaks: false,
});
/** A `.` before a digit starts a DOUBLE (`.5`); any other is tried before DoubleLiteral, which it would not match. */
const DOT = ['.'] as CustomPatternMatcherReturn;
export const Dot = createToken({
  name: 'Dot',
  pattern: { exec: (text: string, offset: number) => (text.charCodeAt(offset) === 46 && !isDigit(text.charCodeAt(offset + 1)) ? DOT : null) },
  start_chars_hint: ['.'],
  line_breaks: false,
});
/** Tried before DoubleLiteral: digits are nearly always a LONG, and then need one scan only. */
export const LongLiteral = createToken({
  name: 'LongLiteral',
  pattern: {
    exec: (text: string, offset: number) => {
      let end = offset;
      while (isDigit(text.charCodeAt(end))) end++;
      if (end === offset) return null;
      const c = text.charCodeAt(end);
      if ((c === 46 || c === 101 || c === 69 || isFloatSuffix(c)) && doubleEnd(text, offset) >= 0) return null;
      if (c === 108 || c === 76) end++;
      return matched(text.substring(offset, end));
    },
  },
  start_chars_hint: DIGITS,
  line_breaks: false,
});
/**
 * `'...'` or `"..."` on one line; a backslash escapes any character but a line break. An
 * unterminated string matches nothing, which the lexer reports at its quote.
 */
/** End of the string literal whose quote is at `offset`, or -1 when there is none there. */
export function stringEnd(text: string, offset: number): number {
  const quote = text.charCodeAt(offset);
  if (quote !== 39 && quote !== 34) return -1;
  const n = text.length;
  for (let i = offset + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === quote) return i + 1;
    if (c === 10 || c === 13) return -1;
    if (c === 92) {
      const e = text.charCodeAt(i + 1);
      if (e === 10 || e === 13 || Number.isNaN(e)) return -1;
      i++;
    }
  }
  return -1;
}

export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: {
    exec: (text: string, offset: number) => {
      const end = stringEnd(text, offset);
      return end < 0 ? null : matched(text.substring(offset, end));
    },
  },
  start_chars_hint: ["'", '"'],
  line_breaks: false,
});

/**
 * A single blank, the most common separator, is a one-character pattern that the lexer compares
 * itself, cheaper than a call into a custom pattern; a blank after a blank is matched again.
 */
const Blank = createToken({ name: 'Blank', pattern: ' ', group: Lexer.SKIPPED });
/** Tabs and form feeds (with any blanks after them), apart from line breaks, so that most whitespace needs no line counting. */
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 12;
/** A skipped token without line breaks is only measured, so a lone blank needs no new string. */
const ONE_BLANK = [' '] as CustomPatternMatcherReturn;
const Spaces = createToken({
  name: 'Spaces',
  pattern: {
    exec: (text: string, offset: number) => {
      let end = offset;
      while (isSpace(text.charCodeAt(end))) end++;
      if (end === offset) return null;
      return end === offset + 1 ? ONE_BLANK : matched(text.substring(offset, end));
    },
  },
  start_chars_hint: ['\t', '\f'],
  line_breaks: false,
  group: Lexer.SKIPPED,
});
const LineBreaks = createToken({ name: 'LineBreaks', pattern: /[\r\n][ \t\r\n\f]*/, group: Lexer.SKIPPED, line_breaks: true });
const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });

export const allTokens: TokenType[] = [
  Blank, Spaces, LineBreaks, LineComment, BlockComment,
  Unsupported, BinaryOp, AssignOp, PrefixOp,
  Identifier,
  Import, If, Else, While, For, Break, Continue, Return, Throw, New, True, False, Null,
  ...unsupportedKeywords,
  Dot, LongLiteral, DoubleLiteral, StringLiteral,
  ...unsupportedOps,
  EqEq, NotEq, LtEq, GtEq, AndAnd, OrOr,
  PlusAssign, MinusAssign, StarAssign, SlashAssign, PercentAssign,
  Assign, Lt, Gt, Bang, Plus, Minus, Star, Slash, Percent, Question, Colon,
  ...singleUnsupported,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Semicolon, Comma,
];

/**
 * Operators and punctuation by first character, each list in the lexer's order of trial (the
 * first that matches wins, as in Chevrotain), for the scanner.
 */
export const OPERATORS_BY_FIRST: { text: string; type: TokenType }[][] = [];
for (const type of allTokens) {
  const text = OPERATOR_TEXT.get(type);
  if (text !== undefined) (OPERATORS_BY_FIRST[text.charCodeAt(0)] ??= []).push({ text, type });
}

type TokenizeFn = (text: string) => ILexingResult;
let tokenizeWithLexer: TokenizeFn | undefined;

/**
 * Chevrotain's lexer, built on first use: valid programs are read by the scanner alone, so a
 * process that never meets a syntax error (or a `sel eval` of one) does not pay for building it.
 * Tokens carry their start line and column; an error at the end of input derives the end from
 * the last token's image.
 *
 * Lexer.tokenize re-checks the lexer's definition errors (with lodash's generic isEmpty) on every
 * call, which costs more than lexing a short program. The Lexer constructor already throws on a
 * bad definition, so the check can never fail here: go to the tokenizer itself when this
 * Chevrotain version has it, else through the public method.
 */
function lexer(): TokenizeFn {
  if (tokenizeWithLexer) return tokenizeWithLexer;
  const selLexer = new Lexer(allTokens, { positionTracking: 'onlyStart', ensureOptimizations: true, safeMode: false });
  const internals = selLexer as unknown as { tokenizeInternal?: (text: string, mode: unknown) => ILexingResult; defaultMode?: unknown };
  tokenizeWithLexer =
    typeof internals.tokenizeInternal === 'function' && internals.defaultMode !== undefined
      ? (text) => internals.tokenizeInternal!.call(selLexer, text, internals.defaultMode)
      : (text) => selLexer.tokenize(text);
  return tokenizeWithLexer;
}

export function tokenize(source: string): IToken[] {
  const result = lexer()(source);
  const bad = result.errors[0];
  if (bad) {
    const ch = source.charAt(bad.offset);
    const what = ch === "'" || ch === '"' ? 'unterminated string literal' : `unexpected character '${ch}'`;
    throw new SelError('syntax', what, bad.line ?? 1, bad.column ?? 1);
  }
  return result.tokens;
}
