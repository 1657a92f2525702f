import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRepl, needsMore } from '../src/cli/repl.js';
import { evaluateBatchLine } from '../src/cli/batch.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/sel.js');
const dir = mkdtempSync(path.join(tmpdir(), 'sel-cli-'));

async function drive(lines: string[]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString()));
  const done = runRepl({ input, output, terminal: false });
  input.end(lines.map((l) => `${l}\n`).join(''));
  await done;
  return text;
}

describe('sel REPL', () => {
  it('puts a caret under the fault of a syntax error', async () => {
    const out = await drive(['x = 1;', 'y = x +* 2;']);
    expect(out).toContain("syntax error at line 1, column 8: unexpected '*'");
    expect(out).toContain(' 1 | y = x +* 2;\n   |        ^');
  });

  it('continues multi-line entries while brackets are open', async () => {
    const out = await drive(['int s = 0;', 'for (int i = 0; i < 3; i += 1) {', '  s += i;', '}', 'return s;']);
    expect(out).toContain('(no value: VOID)');
    expect(needsMore('for (int i = 0; i < 3; i += 1) {')).toBe(true);
    expect(needsMore('x = 1 +')).toBe(true);
    expect(needsMore("x = '(';")).toBe(false);
  });

  it('sets variables, loads params, shows types and limits', async () => {
    const file = path.join(dir, 'p.json');
    writeFileSync(file, '{"big": 9223372036854775807, "name": "etl"}');
    const out = await drive([':set a = 41', 'a + 1', `:params ${file}`, 'big', 'name + "!"', ':type 1.5', ':limits steps=50', ':nope']);
    expect(out).toContain('a = 41 : LONG');
    expect(out).toContain('42 : LONG');
    expect(out).toContain('9223372036854775807 : LONG');
    expect(out).toContain('"etl!" : STRING');
    expect(out).toContain('DOUBLE');
    expect(out).toContain('steps = 50');
    expect(out).toContain('unknown command :nope');
  });

  it('reports runtime errors with their position', async () => {
    const out = await drive(['return 1 / 0;']);
    expect(out).toContain('runtime error at line 1, column 10: division by zero');
    expect(out).toMatch(/\| {10}\^/);
  });
});

describe('sel command', () => {
  it('evaluates a batch file line by line, exiting 0 even when lines fail', () => {
    const file = path.join(dir, 'cases.jsonl');
    writeFileSync(file, [
      '{"source": "return x + 1;", "params": {"x": 9007199254740993}}',
      '{"source": "return 1 +;", "params": {}}',
      '{"source": "return params.get(\'a\') * 2.5;", "params": {"a": 2}}',
      'not json',
    ].join('\n'));
    const r = spawnSync(process.execPath, [bin, 'eval', '--batch', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '{"type":"LONG","value":"9007199254740994"}',
      '{"error":{"kind":"syntax","message":"unexpected \';\'","line":1,"column":11}}',
      '{"type":"DOUBLE","value":5.0}',
      expect.stringContaining('"kind":"syntax"'),
    ]);
  }, 30_000);

  it('evaluates one program with --params and --json, and shows a caret on error', () => {
    const file = path.join(dir, 'params.json');
    writeFileSync(file, '{"d": 20240315, "h": "07"}');
    const ok = spawnSync(process.execPath, [bin, 'eval', "return 's3://bucket/' + d + '/' + h + '/';", '--params', file, '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe('{"type":"STRING","value":"s3://bucket/20240315/07/"}');
    const bad = spawnSync(process.execPath, [bin, 'eval', 'return 1 + ;'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(' 1 | return 1 + ;\n   |            ^');
  }, 30_000);

  it('formats batch results for maps and big LONG elements exactly', () => {
    expect(evaluateBatchLine('{"source": "m = new Map(); m.put(\'k\', new long[]{9223372036854775807, 1}); return m;"}')).toBe(
      '{"type":"MAP","value":{"k":["9223372036854775807",1]}}',
    );
  });
});
