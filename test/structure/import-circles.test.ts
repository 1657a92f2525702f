// The structure rules the project keeps (issue 18): no import circle inside packages/*/src and no
// source file over 400 lines without a comment at its top saying why it stays whole. The checker
// is scripts/check-structure.js; `npm test` also runs it as its own step.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript script with no type declarations
import { checkStructure } from '../../scripts/check-structure.js';

interface StructureReport {
  files: number;
  circles: string[][];
  longFiles: string[];
}
const check = checkStructure as (root: string) => StructureReport;
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

const scratch = mkdtempSync(join(tmpdir(), 'baton-structure-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(scratch, 'p-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the project', () => {
  it('has no import circle inside any package and no unexplained long file', () => {
    const report = check(root);
    expect(report.files).toBeGreaterThan(200);
    expect(report.circles).toEqual([]);
    expect(report.longFiles).toEqual([]);
  });
});

describe('the checker', () => {
  it('finds a circle through type-only imports, re-exports and lazy imports, inside one package only', () => {
    const dir = project({
      'packages/a/src/one.ts': "import type { Two } from './two.js';\nexport type One = Two;\n",
      'packages/a/src/two.ts': "export { three } from './nested/three.js';\nexport type Two = string;\n",
      'packages/a/src/nested/three.ts': "export const three = () => import('../one.js');\n",
      'packages/a/src/alone.ts': "import { x } from '@baton/b';\nexport const y = x;\n",
      'packages/b/src/index.ts': "export const x = 1;\n",
    });
    const report = check(dir);
    expect(report.files).toBe(5);
    expect(report.circles).toEqual([['packages/a/src/nested/three.ts', 'packages/a/src/one.ts', 'packages/a/src/two.ts']]);
  });

  it('passes one-way arrows and a directory import', () => {
    const dir = project({
      'packages/a/src/index.ts': "export * from './lib/index.js';\n",
      'packages/a/src/lib/index.ts': "import { leaf } from '../leaf.js';\nexport const lib = leaf;\n",
      'packages/a/src/leaf.ts': 'export const leaf = 1;\n',
    });
    expect(check(dir).circles).toEqual([]);
  });

  it('flags a long file unless its top says why it stays whole', () => {
    const body = 'export const x = 1;\n'.repeat(401);
    const dir = project({
      'packages/a/src/long.ts': body,
      'packages/a/src/explained.ts': `// One state machine: its transitions read best together.\n${body}`,
      'packages/a/src/short.ts': 'export const x = 1;\n'.repeat(400),
    });
    expect(check(dir).longFiles).toEqual(['packages/a/src/long.ts']);
  });
});
