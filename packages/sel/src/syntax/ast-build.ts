import type { IToken } from 'chevrotain';
import { SelError } from '../errors.js';
import type { BinaryOperator, Expr, Pos } from './ast.js';
import * as T from './lexer.js';

// Tree nodes from tokens, built the same way by the Chevrotain parser and the fast one.

/** Binding strength of each binary operator, by token type index (an array read, not a lookup by image). */
export const PRECEDENCE: number[] = [];
for (const [tt, prec] of [
  [T.OrOr, 1], [T.AndAnd, 2], [T.EqEq, 3], [T.NotEq, 3], [T.Lt, 4], [T.Gt, 4], [T.LtEq, 4], [T.GtEq, 4],
  [T.Plus, 5], [T.Minus, 5], [T.Star, 6], [T.Slash, 6], [T.Percent, 6],
] as const) {
  PRECEDENCE[tt.tokenTypeIdx!] = prec;
}

export const posOf = (t: IToken): Pos => ({ line: t.startLine ?? 1, column: t.startColumn ?? 1, offset: t.startOffset });

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', b: '\b', f: '\f', r: '\r', "'": "'", '"': '"', '\\': '\\' };

export function unescapeJava(raw: string): string {
  // indexOf rather than includes, which first checks that its argument is no RegExp.
  if (raw.indexOf('\\') < 0) return raw;
  return raw.replace(/\\(u+[0-9a-fA-F]{4}|[0-3][0-7]{0,2}|[4-7][0-7]?|.)/g, (_m, e: string) => {
    const simple = ESCAPES[e];
    if (simple !== undefined) return simple;
    if (e.startsWith('u')) return String.fromCharCode(parseInt(e.replace(/^u+/, ''), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return `\\${e}`;
  });
}

/** 2^63: a literal only as the operand of a unary minus (Long.MIN_VALUE), as in Java. */
export const LONG_LITERAL_LIMIT = 9223372036854775808n;

export function parseLong(image: string, pos: Pos): bigint {
  const last = image.charCodeAt(image.length - 1);
  const digits = last === 108 || last === 76 ? image.slice(0, -1) : image;
  // Up to 15 digits are exact as a double, and converting from one is cheaper than from text.
  const value = digits.length <= 15 ? BigInt(Number(digits)) : BigInt(digits);
  // Java rejects integer literals beyond the LONG range; 2^63 itself only after a unary minus,
  // which the parser folds into -2^63. Left unfolded, the compiler refuses it (LONG_LITERAL_LIMIT).
  if (value > LONG_LITERAL_LIMIT) throw new SelError('syntax', `integer number too large: ${digits}`, pos.line, pos.column);
  return value === LONG_LITERAL_LIMIT ? value : BigInt.asIntN(64, value);
}

export function foldUnary(op: '-' | '+' | '!', pos: Pos, arg: Expr): Expr {
  // A negative literal is a literal, so that -9223372036854775808 is in range as in Java.
  if (op === '-' && arg.k === 'lit' && (arg.type === 'LONG' || arg.type === 'DOUBLE')) {
    const value = arg.type === 'LONG' ? BigInt.asIntN(64, -(arg.value as bigint)) : -(arg.value as number);
    return { k: 'lit', type: arg.type, value, pos };
  }
  return { k: 'unary', op, arg, pos };
}

/** A binary operator between two operands, with its binding strength. */
export interface BinaryOpAt {
  op: BinaryOperator;
  prec: number;
  pos: Pos;
}

export const binaryOpOf = (t: IToken): BinaryOpAt => ({ op: t.image as BinaryOperator, prec: PRECEDENCE[t.tokenTypeIdx]!, pos: posOf(t) });

function reduceTop(out: Expr[], stack: BinaryOpAt[]): void {
  const o = stack.pop()!;
  const right = out.pop()!;
  const left = out.pop()!;
  out.push({ k: 'binary', op: o.op, left, right, pos: o.pos });
}

/** Operator precedence parsing of `operands[0] ops[0] operands[1] ...` (all left associative). */
export function buildBinary(operands: Expr[], ops: BinaryOpAt[]): Expr {
  const out: Expr[] = [operands[0]!];
  const stack: BinaryOpAt[] = [];
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    while (stack.length > 0 && stack[stack.length - 1]!.prec >= o.prec) reduceTop(out, stack);
    stack.push(o);
    out.push(operands[i + 1]!);
  }
  while (stack.length > 0) reduceTop(out, stack);
  return out[0]!;
}
