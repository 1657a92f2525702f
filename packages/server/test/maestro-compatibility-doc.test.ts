import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAESTRO_STEP_TYPES, PARAM_MODES, PARAM_TYPES, RUN_STRATEGY_RULES } from '@baton/engine-core';
import { utilMethods } from '../../sel/src/java/util-functions.js';
import { MAX_NAME_LENGTH, MAX_SIGNALS_IN_A_TRIGGER, RESERVED_ID_PREFIX, RESERVED_ID_SUFFIX } from '../../engine-core/src/definition/maestro-limits.js';
import { DRY_RUN_SIGNAL_VALUE } from '../../engine-core/src/runtime/dry-run.js';
import { DEFAULT_MIN_TRIGGER_INTERVAL_MS } from '../src/service-config.js';
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
/** What Maestro's model constraints refuse at push (SignalTriggerConstraint, MaestroIdConstraint, …). */
const MAESTRO_REFUSALS = ['trigger-signal-count', 'join-key-match-param', 'trigger-match-value', 'dependency-range-params', 'dependency-match-param-type', 'empty-signal-lists', 'reserved-ids', 'name-length'];
/** The tests that push what Maestro refuses and expect the refusal. */
const REFUSAL_TESTS = ['packages/engine-core/test/definition/maestro-refusals.test.ts', 'packages/server/test/maestro-push-checks.test.ts'];

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

  it("lists every refusal of Maestro's model, each refused as Maestro does and shown by a refusal test", () => {
    expect(keysWith('refuse:').sort()).toEqual([...MAESTRO_REFUSALS].sort());
    // INTERVAL is "supported" because Baton refuses it as Maestro does; a refusal test must show it.
    for (const key of [...MAESTRO_REFUSALS.map((k) => `refuse:${k}`), 'time-trigger:INTERVAL', 'time-trigger.minimum-interval', 'properties.owner-required']) {
      const r = byKey.get(key)!;
      expect(r.status, key).not.toBe('not supported');
      const files = [...r.evidence.matchAll(EVIDENCE)].map((m) => m[1]);
      expect(files.some((f) => REFUSAL_TESTS.includes(f!)), `${key} names a refusal test`).toBe(true);
    }
  });

  it('quotes the limits the code uses', () => {
    const text = (key: string) => {
      const r = byKey.get(key)!;
      return readFileSync(DOC, 'utf8').split('\n')[r.line - 1]!;
    };
    expect(text('refuse:trigger-signal-count')).toContain(`more than ${MAX_SIGNALS_IN_A_TRIGGER} signals`);
    expect(text('refuse:name-length')).toContain(`over ${MAX_NAME_LENGTH} characters`);
    expect(text('refuse:reserved-ids')).toContain(`starting with \`${RESERVED_ID_PREFIX}\``);
    expect(text('refuse:reserved-ids')).toContain(`ending with \`${RESERVED_ID_SUFFIX}\``);
    expect(text('param.push-dry-run')).toContain(`signal params ${String(DRY_RUN_SIGNAL_VALUE)}`);
    expect(DEFAULT_MIN_TRIGGER_INTERVAL_MS).toBe(60_000);
    expect(text('time-trigger.minimum-interval')).toMatch(/at least 1 minute apart.*default `1m`/);
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
