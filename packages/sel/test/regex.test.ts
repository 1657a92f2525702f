import { describe, expect, it } from 'vitest';
import { compile, evaluate, type EvalResult } from '@baton/sel';

/** Runs a program, failing the test when it takes longer than `ms`. */
function timed(source: string, ms = 2000): EvalResult {
  const t = performance.now();
  const r = evaluate(source);
  expect(performance.now() - t, source).toBeLessThan(ms);
  return r;
}

const value = (r: EvalResult): unknown => {
  if (!r.ok) throw new Error(`${r.error.kind}: ${r.error.message}`);
  return r.value;
};
const items = (r: EvalResult): unknown[] => (value(r) as { items: unknown[] }).items;

const A30 = "String s='a'; for(int i=0;i<29;i=i+1){s=s+'a';} s=s+'!'; ";
const MEG = "String s = 'a'; while (s.length() < 1000000) { s = s + s; } ";

describe('regexes run in linear time (re2js)', () => {
  it('finishes the catastrophic reproducers of issue 15 quickly, with Java results', () => {
    expect(value(timed(`${A30}return s.replaceAll('(a|a)*$','x');`))).toBe(`${'a'.repeat(30)}!x`);
    expect(items(timed(`${A30}return s.split('(a|aa)*$');`))).toEqual([`${'a'.repeat(30)}!`]);
    expect(value(timed(`${A30}return s.replaceAll('(\\\\w|\\\\d)+$','x');`))).toBe(`${'a'.repeat(30)}!`);
    expect(value(timed(`${A30}return s.replaceAll('(a+)+b','x');`))).toBe(`${'a'.repeat(30)}!`);
    expect(value(timed("String s='a'; for(int i=0;i<14;i=i+1){s=s+s;} return s.replaceAll('.*.*.*=','x').length();"))).toBe(16384n);
    expect(value(timed("String s='a'; for(int i=0;i<14;i=i+1){s=s+s;} return s.split('(.*a){20}b').length;"))).toBe(1n);
    expect(value(timed(`${MEG}return s.replaceAll('a*b','x').length();`))).toBe(1048576n);
    expect(value(timed(`${MEG}return s.split('a*b').length;`))).toBe(1n);
  });

  it('charges find-all loops that re-read the input to the steps budget, so they stop', () => {
    // Each single-character match of `a*b|a` reads to the end of the input: quadratic in any
    // RE2; the engine's character steps count against the steps limit and end the evaluation.
    const r = evaluate(`${MEG}return s.replaceAll('a*b|a','x').length();`, {}, { limits: { steps: 1_000_000 } } as never);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/steps limit of 1000000 exceeded/);
    const small = evaluate("String s='a'; for(int i=0;i<10;i=i+1){s=s+s;} return s.replaceAll('a*b|a','x').length();");
    expect(value(small)).toBe(1024n);
  });

  it('keeps Java semantics: groups in replacements, split limits and trailing empties, zero-width matches', () => {
    expect(value(evaluate("return 'john@x'.replaceAll('(\\\\w+)@(?<host>\\\\w+)', '${host} at $1');"))).toBe('x at john');
    expect(value(evaluate("return 'a1b22c333'.replaceAll('[0-9]+', '<$0>');"))).toBe('a<1>b<22>c<333>');
    expect(value(evaluate("return 'abc'.replaceAll('b*', '-');"))).toBe('-a--c-');
    expect(value(evaluate("return 'price: 5'.replaceAll('\\\\d', '\\\\$');"))).toBe('price: $');
    expect(items(evaluate("return ',a,,b,,'.split(',');"))).toEqual(['', 'a', '', 'b']);
    expect(items(evaluate("return 'a,b,c,d'.split(',', 2);"))).toEqual(['a', 'b,c,d']);
    expect(items(evaluate("return 'a,b,,'.split(',', -1);"))).toEqual(['a', 'b', '', '']);
    expect(items(evaluate("return 'abc'.split('');"))).toEqual(['a', 'b', 'c']);
    expect(items(evaluate("return 'a.b.c'.split('\\\\.');"))).toEqual(['a', 'b', 'c']);
    expect(items(evaluate("return 'one  two\\tthree'.split('\\\\s+');"))).toEqual(['one', 'two', 'three']);
    expect(items(evaluate("return 'x1y2z'.split('\\\\Q1\\\\E|2');"))).toEqual(['x', 'y', 'z']);
    expect(value(evaluate("return 'A\\nb'.replaceAll('.', 'x');"))).toBe('x\nx');
    expect(value(evaluate("return 'A\\nb'.replaceAll('(?s).', 'x');"))).toBe('xxx');
    expect(value(evaluate("return 'AbC'.replaceAll('(?i)[a-c]', 'x');"))).toBe('xxx');
    expect(value(evaluate("return 'a😀b'.replaceAll('\\\\x{1F600}', '!');"))).toBe('a!b');
    expect(value(evaluate("return 'a😀b'.replaceAll('\\\\uD83D\\\\uDE00', '!');"))).toBe('a!b');
    expect(value(evaluate("return 'Gr αβγ'.replaceAll('\\\\p{IsGreek}+', 'G');"))).toBe('Gr G');
  });

  it('refuses what needs backtracking, naming the construct and its index, at check time for a literal', () => {
    const refused: [string, RegExp][] = [
      ['(a)\\\\1', /a back reference \(\\1\) at index 3/],
      ['(?<x>a)\\\\k<x>', /a back reference \(\\k<x>\) at index 7/],
      ['a(?=b)', /a lookahead \(\?=\.\.\.\) at index 1/],
      ['a(?!b)', /a lookahead \(\?!\.\.\.\) at index 1/],
      ['(?<=a)b', /a lookbehind \(\?<=\.\.\.\) at index 0/],
      ['(?<!a)b', /a lookbehind \(\?<!\.\.\.\) at index 0/],
      ['a*+', /a possessive quantifier \(\*\+\) at index 1/],
      ['(?>ab)', /an atomic group \(\?>\.\.\.\) at index 0/],
    ];
    for (const [pattern, message] of refused) {
      const source = `x = 'ab';\nreturn x.replaceAll('${pattern}', 'y');`;
      let err: unknown;
      try {
        compile(source);
      } catch (e) {
        err = e;
      }
      expect(err, pattern).toMatchObject({ kind: 'syntax', line: 2, column: 21 });
      expect((err as Error).message, pattern).toMatch(message);
      expect((err as Error).message).toMatch(/linear time/);
    }
    // Not a literal: refused when the call runs, at the call.
    const r = evaluate("p = '(a)\\\\1'; return 'aa'.split(p);");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'runtime', line: 1, column: 27, message: expect.stringMatching(/back reference \(\\1\) at index 3/) });
  });

  it('refuses repetitions that expand a pattern past 2,500 parts (found by the fuzzer: slow to compile and to run)', () => {
    expect(() => compile("return 'a'.split('(.*.*.*.*.*){1000}');")).toThrow(/is too large: its repetitions expand it to 6000 parts at index 12 \(at most 2500\)/);
    expect(() => compile("return 'a'.split('((a{10}){10}){30}');")).toThrow(/expand it to 3330 parts at index 13/);
    expect(value(evaluate("return 'x12-345-678-y'.replaceAll('(\\d{3}-){2}', '#');"))).toBe('x12-#y');
    expect(value(evaluate("return 'ab'.replaceAll('[\\s\\S]{2}', '#');"))).toBe('#');
  });

  it('reads an escape or ] first in a class as a member', () => {
    expect(value(evaluate("return 'a1 b2]'.replaceAll('[\\d]', '#');"))).toBe('a# b#]');
    expect(value(evaluate("return 'x]y'.replaceAll('[]x]', '-');"))).toBe('--y');
    expect(value(evaluate("return 'a^b]'.replaceAll('[^]a]', '.');"))).toBe('a..]');
  });

  it('names other bad patterns clearly', () => {
    expect(() => compile("return 'a'.split('a{1001}');")).toThrow(/repetition count over 1000 \(\{1001\}\) at index 1/);
    expect(() => compile("return 'a'.split('(a');")).toThrow(/unclosed group/);
    expect(() => compile("return 'a'.split('[a&&b]');")).toThrow(/intersection/);
  });
});
