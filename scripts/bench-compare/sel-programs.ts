/**
 * The six programs of bench/sel.bench.ts (Maestro's published per-evaluation figures), only what
 * the before/after comparison evaluates: the source and its variables. bench/sel.bench.ts does not
 * export its list (its module runs the benchmark when imported), so this is a copy of those two
 * fields; keep it in step when that list changes.
 */
export interface SelProgram {
  name: string;
  sel: string;
  vars: Record<string, unknown>;
}

export const SEL_PROGRAMS: SelProgram[] = [
  { name: "x > 10 && name == 'etl'", sel: "x > 10 && name == 'etl'", vars: { x: 15n, name: 'etl' } },
  { name: 'return (a + b) * 3 - a / 2;', sel: 'return (a + b) * 3 - a / 2;', vars: { a: 100n, b: 7n } },
  { name: "return 's3://bucket/' + d + '/' + h + '/';", sel: "return 's3://bucket/' + d + '/' + h + '/';", vars: { d: 20240315n, h: '07' } },
  {
    name: 'int s = 0; for (int i = 0; i < 100; i += 1) { s += i; } return s;',
    sel: 'int s = 0; for (int i = 0; i < 100; i += 1) { s += i; } return s;',
    vars: {},
  },
  { name: 'return Util.dateIntsBetween(20240101, 20240201, 1);', sel: 'return Util.dateIntsBetween(20240101, 20240201, 1);', vars: {} },
  {
    name: "DateTimeFormat.forPattern('yyyyMMddHH')...parseDateTime(TARGET_RUN_DATE + '00').minusDays(1).toString('yyyyMMdd')",
    sel: "DateTimeFormatter f = DateTimeFormat.forPattern('yyyyMMddHH').withZone(DateTimeZone.forID('UTC')); return f.parseDateTime(TARGET_RUN_DATE + '00').minusDays(1).toString('yyyyMMdd');",
    vars: { TARGET_RUN_DATE: '20240315' },
  },
];
