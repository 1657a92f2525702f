import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { SelError } from '../errors.js';

/**
 * Tokens of SEL. Java operators and keywords that SEL does not support are still recognised as
 * tokens (category `Unsupported`) so the parser can name them in its error instead of failing
 * on an odd character.
 */
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_$][A-Za-z0-9_$]*/ });

const keyword = (word: string, name: string): TokenType =>
  createToken({ name, pattern: new RegExp(word), longer_alt: Identifier });

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
const unsupportedKeywords = unsupportedWords.map((w) =>
  createToken({
    name: `Kw_${w}`,
    pattern: new RegExp(w),
    longer_alt: Identifier,
    categories: [Unsupported],
  }),
);

const op = (name: string, pattern: string, categories: TokenType[] = []): TokenType =>
  createToken({ name, pattern: new RegExp(pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), categories });

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

export const DoubleLiteral = createToken({
  name: 'DoubleLiteral',
  pattern: /(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)[fFdD]?|\d+[fFdD]/,
});
export const Dot = op('Dot', '.');
export const LongLiteral = createToken({ name: 'LongLiteral', pattern: /\d+[lL]?/ });
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /'(?:[^'\\\n\r]|\\[^\n\r])*'|"(?:[^"\\\n\r]|\\[^\n\r])*"/,
});

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f]+/, group: Lexer.SKIPPED, line_breaks: true });
const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });

export const allTokens: TokenType[] = [
  WhiteSpace, LineComment, BlockComment,
  Unsupported, BinaryOp, AssignOp, PrefixOp,
  Import, If, Else, While, For, Break, Continue, Return, Throw, New, True, False, Null,
  ...unsupportedKeywords,
  Identifier,
  DoubleLiteral, LongLiteral, StringLiteral,
  ...unsupportedOps,
  EqEq, NotEq, LtEq, GtEq, AndAnd, OrOr,
  PlusAssign, MinusAssign, StarAssign, SlashAssign, PercentAssign,
  Assign, Lt, Gt, Bang, Plus, Minus, Star, Slash, Percent, Question, Colon,
  ...singleUnsupported,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Semicolon, Comma, Dot,
];

const selLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: true });

export function tokenize(source: string): IToken[] {
  const result = selLexer.tokenize(source);
  const bad = result.errors[0];
  if (bad) {
    const ch = source.charAt(bad.offset);
    const what = ch === "'" || ch === '"' ? 'unterminated string literal' : `unexpected character '${ch}'`;
    throw new SelError('syntax', what, bad.line ?? 1, bad.column ?? 1);
  }
  return result.tokens;
}
