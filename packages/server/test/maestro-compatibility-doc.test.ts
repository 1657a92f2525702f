import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAESTRO_STEP_TYPES, PARAM_MODES, PARAM_TYPES, RUN_STRATEGY_RULES } from '@baton/engine-core';
import { utilMethods } from '../../sel/src/java/util-functions.js';
import { repoRoot } from './helpers/baton-process.js';
import { startServiceApp, type ServiceApp } from './helpers/service-app.js';

/*
 * Keeps docs/maestro-compatibility.md true: every row has a status and, unless supported, says
 * how or why; every test it names exists and holds the text it quotes; Maestro's run
 * strategies, param types and modes, step types, SEL utility functions and SEL `params` methods
 * each have a row, marked as the code has them.
 */

const DOC = path.join(repoRoot, 'docs/maestro-compatibility.md');
const STATUSES = ['supported', 'different', 'not supported'] as const;
type Status = (typeof STATUSES)[number];

/** Maestro's `SelUtilFunc` methods and `MaestroParamExtension` methods (Netflix/maestro). */
const MAESTRO_UTIL_FUNCTIONS = ['dateIntToTs', 'tsToDateInt', 'incrementDateInt', 'timeoutForDateTimeDeadline', 'timeoutForDateIntDeadline', 'dateIntsBetween', 'intsBetween', 'dateIntHourToTs'];
const MAESTRO_PARAM_METHODS = ['nextUniqueId', 'getExecutionEnvironment', 'getFromInstance', 'getFromStep', 'getFromSignal', 'getFromSignalDependency', 'getFromSignalOrDefault', 'getFromSubworkflow', 'getFromForeach'];
const MAESTRO_TIME_TRIGGERS = ['CRON', 'PREDEFINED', 'INTERVAL'];

interface Row {
  line: number;
  key: string;
  status: Status;
  how: string;
  evidence: string;
}

/** Splits a table row on `|` outside backticks. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let code = false;
  for (const ch of line.trim().slice(1, -1)) {
    if (ch === '`') code = !code;
    if (ch === '|' && !code) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function readRows(): Row[] {
  const rows: Row[] = [];
  readFileSync(DOC, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!text.startsWith('| `')) return;
      const c = cells(text);
      expect(c, `line ${i + 1} has 5 cells`).toHaveLength(5);
      const key = /^`([^`]+)`/.exec(c[0]!)?.[1];
      expect(key, `line ${i + 1} starts with a key in backticks`).toBeDefined();
      rows.push({ line: i + 1, key: key!, status: c[2] as Status, how: c[3]!, evidence: c[4]! });
    });
  return rows;
}

const EVIDENCE = /`([^`]+)`\s+"([^"]+)"/g;
const EVIDENCE_CELL = /^(\s*`[^`]+`\s+"[^"]+"\s*;?)+$/;

describe('docs/maestro-compatibility.md', () => {
  const rows = readRows();
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const keysWith = (prefix: string) => rows.filter((r) => r.key.startsWith(prefix)).map((r) => r.key.slice(prefix.length));

  it('has rows with unique keys and a known status', () => {
    expect(rows.length).toBeGreaterThan(100);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    for (const r of rows) expect(STATUSES, `line ${r.line} (${r.key})`).toContain(r.status);
  });

  it('says how every "different" row differs and why every "not supported" row is not', () => {
    for (const r of rows.filter((x) => x.status !== 'supported')) {
      expect(r.how.length, `line ${r.line} (${r.key}) needs an explanation`).toBeGreaterThanOrEqual(20);
    }
  });

  it('names, for every supported or different row, a test that exists and holds the quoted text', () => {
    for (const r of rows.filter((x) => x.status !== 'not supported')) {
      expect(r.evidence, `line ${r.line} (${r.key}): evidence is \`file\` "text"`).toMatch(EVIDENCE_CELL);
      for (const [, file, needle] of r.evidence.matchAll(EVIDENCE)) {
        const full = path.join(repoRoot, file!);
        expect(existsSync(full), `line ${r.line}: ${file} exists`).toBe(true);
        expect(readFileSync(full, 'utf8').includes(needle!), `line ${r.line}: ${file} contains "${needle}"`).toBe(true);
      }
    }
  });

  it('lists every run strategy, param type and param mode, as the model has them', () => {
    expect(keysWith('run-strategy:').sort()).toEqual([...RUN_STRATEGY_RULES].sort());
    expect(keysWith('param-type:').sort()).toEqual([...PARAM_TYPES].sort());
    expect(keysWith('param-mode:').sort()).toEqual([...PARAM_MODES].sort());
    for (const r of rows.filter((x) => /^(run-strategy|param-type|param-mode):/.test(x.key))) expect(r.status, r.key).toBe('supported');
    expect(keysWith('time-trigger:').sort()).toEqual([...MAESTRO_TIME_TRIGGERS].sort());
  });

  it("lists every SEL utility function and params method of Maestro, supported ones present in Baton's library", () => {
    expect(keysWith('sel:Util.').sort()).toEqual([...MAESTRO_UTIL_FUNCTIONS].sort());
    for (const name of MAESTRO_UTIL_FUNCTIONS) {
      const supported = byKey.get(`sel:Util.${name}`)?.status !== 'not supported';
      expect(Object.hasOwn(utilMethods, name), `Util.${name} in Baton's SEL library`).toBe(supported);
    }
    expect(keysWith('sel:params.').sort()).toEqual([...MAESTRO_PARAM_METHODS].sort());
  });

  describe('step types', () => {
    let s: ServiceApp;
    beforeAll(async () => {
      s = await startServiceApp({});
    }, 60_000);
    afterAll(async () => s?.close());

    it("lists every Maestro step type; a leaf type is supported exactly when a Baton service has a runtime for it", () => {
      const leaf = [...MAESTRO_STEP_TYPES];
      expect(keysWith('step-type:').sort()).toEqual([...leaf, 'foreach', 'while', 'subworkflow'].sort());
      const catalog = s.services.engine.stepTypes;
      for (const t of leaf) expect(byKey.get(`step-type:${t}`)?.status !== 'not supported', `step-type:${t}`).toBe(catalog.has(t));
    });
  });
});
