import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { compile, evaluate } from '@baton/sel';
import { runRepl } from '../src/cli/repl.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/sel.js');

function compileError(source: string): unknown {
  try {
    compile(source);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('errors name what is wrong (issue 15)', () => {
  it('a 4,000-term sum: expression too deeply nested at line L, column C', () => {
    const source = `x = 1;\nreturn ${Array(4000).fill('1').join('+')};`;
    const err = compileError(source);
    expect(err).toMatchObject({ kind: 'limit', line: 2, message: expect.stringMatching(/^expression too deeply nested at line 2, column \d+: more than 1000 operations/) });
    expect(evaluate(`return ${Array(900).fill('1').join('+')};`)).toMatchObject({ ok: true, value: 900n });
  });

  it('String.format with a huge precision names the precision and the limit', () => {
    const r = evaluate("return String.format('%.1000000000f', 1.0);");
    expect(r).toMatchObject({ ok: false, error: { kind: 'runtime', message: 'format precision 1000000000 exceeds the limit 10000' } });
    expect(evaluate("return String.format('%.3f', 2.0);")).toMatchObject({ ok: true, value: '2.000' });
  });

  it('2^63 as a literal is refused at compile time; -2^63 is Long.MIN_VALUE as in Java', () => {
    expect(compileError('return 9223372036854775808;')).toMatchObject({ kind: 'syntax', line: 1, column: 8, message: expect.stringMatching(/^integer literal out of range/) });
    expect(compileError('return 1 - 9223372036854775808;')).toMatchObject({ kind: 'syntax', message: expect.stringMatching(/^integer literal out of range/) });
    expect(compileError('return 9223372036854775809;')).toMatchObject({ kind: 'syntax', message: expect.stringMatching(/too large/) });
    expect(evaluate('return -9223372036854775808;')).toMatchObject({ ok: true, value: -9223372036854775808n });
    expect(evaluate('return 9223372036854775807;')).toMatchObject({ ok: true, value: 9223372036854775807n });
  });
});

describe('the sel CLI prints errors without a stack trace', () => {
  it('the REPL shows a map that contains itself as an error and goes on', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const done = runRepl({ input, output, terminal: false });
    input.end("m = new HashMap(); m.put('self', m); return m;\nreturn 1 + 1;\n");
    await done;
    expect(text).toMatch(/limit error( at line 1, column 1)?: data nesting depth limit of \d+ exceeded: the value nests deeper than that, or contains itself/);
    expect(text).toContain('2 : LONG');
  });

  const sel = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

  it('a map that contains itself: a clear error, exit 1, no stack trace', () => {
    for (const args of [['eval', "m = new HashMap(); m.put('self', m); return m;"], ['eval', '--json', "m = new HashMap(); m.put('self', m); return m;"]]) {
      const r = sel(...args);
      expect(r.status, r.stderr).toBe(1);
      const text = r.stdout + r.stderr;
      expect(text).toMatch(/data nesting depth limit of \d+ exceeded: the value nests deeper than that, or contains itself/);
      expect(text).not.toMatch(/\n\s+at |node:internal|\.ts:\d+/);
    }
  });

  it('hostile programs: deep nesting, a backtracking regex, unclosed braces', () => {
    const sources = [
      `return ${Array(4000).fill('1').join('+')};`, "return 'a'.split('(a)\\\\1');", '{'.repeat(3000),
    ];
    for (const source of sources) {
      const r = sel('eval', source);
      expect(r.status, source.slice(0, 40)).toBe(1);
      expect(r.stderr, source.slice(0, 40)).toMatch(/^(syntax|limit|runtime|type|name) error/);
      expect(r.stderr, source.slice(0, 40)).not.toMatch(/\n\s+at |node:internal|\.ts:\d+/);
    }
  });
});
