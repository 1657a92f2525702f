/**
 * SEL benchmark: Baton compiled and cold against cel-js, jexl, jsonata and hand-written JS, on the
 * six programs Maestro published per-evaluation figures for. Prints a table (median ns per
 * evaluation over several timed rounds after a warm-up) and, as its last line, one JSON object.
 *
 * The figures are CPU time of this process (process.cpuUsage), not wall time: on a machine
 * shared with other work a wall clock mostly measures how often the benchmark was descheduled.
 * CPU time still counts everything the process does for an evaluation, garbage collection on
 * helper threads included, so it is never lower than the wall time of an idle machine would be.
 * Wall-clock medians are reported next to them in the JSON (`*_wall_ns`).
 *
 * Issue 15's targets (Baton compiled no slower than cel-js compiled, Baton cold at least 3× faster
 * than Maestro's published figure) are judged on paired timings: for each program Baton compiled,
 * Baton cold and cel-js compiled run in alternating short rounds, so a change of the machine's
 * speed during the run hits all three alike; `ratio_vs_celjs_paired` and `cold_vs_maestro_paired`
 * are the medians of the per-round ratios, and `meets_targets` says per program whether both hold.
 *
 * `npm run bench:sel` runs this file bundled as `npm run build` bundles the server and the CLI
 * (scripts/bench-built.js), the code as it ships; `npm run bench:sel:tsx` runs it under tsx.
 */
import { parse as celParse } from '@marcbachmann/cel-js';
// @ts-expect-error jexl ships without type declarations
import jexl from 'jexl';
import jsonata from 'jsonata';
import { compile } from '@baton/sel';

type Runner = () => unknown;
type AsyncRunner = () => Promise<unknown>;

interface Case {
  name: string;
  maestroUs: number;
  sel: string;
  vars: Record<string, unknown>;
  cel?: { expr: string; vars: Record<string, unknown> };
  jexl?: { expr: string; vars: Record<string, unknown> };
  jsonata?: { expr: string; vars: Record<string, unknown> };
  js: Runner;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const toDateInt = (d: Date): bigint => BigInt(`${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`);
const fromDateInt = (n: bigint): Date => {
  const s = n.toString();
  return new Date(Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8))));
};

const CASES: Case[] = [
  {
    name: "x > 10 && name == 'etl'",
    maestroUs: 55,
    sel: "x > 10 && name == 'etl'",
    vars: { x: 15n, name: 'etl' },
    cel: { expr: "x > 10 && name == 'etl'", vars: { x: 15n, name: 'etl' } },
    jexl: { expr: "x > 10 && name == 'etl'", vars: { x: 15, name: 'etl' } },
    jsonata: { expr: "x > 10 and name = 'etl'", vars: { x: 15, name: 'etl' } },
    js: (() => {
      const v = { x: 15n, name: 'etl' };
      return () => v.x > 10n && v.name === 'etl';
    })(),
  },
  {
    name: 'return (a + b) * 3 - a / 2;',
    maestroUs: 12,
    sel: 'return (a + b) * 3 - a / 2;',
    vars: { a: 100n, b: 7n },
    cel: { expr: '(a + b) * 3 - a / 2', vars: { a: 100n, b: 7n } },
    jexl: { expr: '(a + b) * 3 - a // 2', vars: { a: 100, b: 7 } },
    jsonata: { expr: '(a + b) * 3 - $floor(a / 2)', vars: { a: 100, b: 7 } },
    js: (() => {
      const v = { a: 100n, b: 7n };
      return () => BigInt.asIntN(64, (v.a + v.b) * 3n - v.a / 2n);
    })(),
  },
  {
    name: "return 's3://bucket/' + d + '/' + h + '/';",
    maestroUs: 12,
    sel: "return 's3://bucket/' + d + '/' + h + '/';",
    vars: { d: 20240315n, h: '07' },
    cel: { expr: "'s3://bucket/' + string(d) + '/' + h + '/'", vars: { d: 20240315n, h: '07' } },
    jexl: { expr: "'s3://bucket/' + d + '/' + h + '/'", vars: { d: 20240315, h: '07' } },
    jsonata: { expr: "'s3://bucket/' & d & '/' & h & '/'", vars: { d: 20240315, h: '07' } },
    js: (() => {
      const v = { d: 20240315n, h: '07' };
      return () => `s3://bucket/${v.d}/${v.h}/`;
    })(),
  },
  {
    name: 'int s = 0; for (int i = 0; i < 100; i += 1) { s += i; } return s;',
    maestroUs: 30,
    sel: 'int s = 0; for (int i = 0; i < 100; i += 1) { s += i; } return s;',
    vars: {},
    js: () => {
      let s = 0n;
      for (let i = 0n; i < 100n; i += 1n) s = BigInt.asIntN(64, s + i);
      return s;
    },
  },
  {
    name: 'return Util.dateIntsBetween(20240101, 20240201, 1);',
    maestroUs: 19,
    sel: 'return Util.dateIntsBetween(20240101, 20240201, 1);',
    vars: {},
    js: () => {
      const out: bigint[] = [];
      const end = fromDateInt(20240201n).getTime();
      for (let t = fromDateInt(20240101n).getTime(); t < end; t += 86_400_000) out.push(toDateInt(new Date(t)));
      return out;
    },
  },
  {
    name: "DateTimeFormat.forPattern('yyyyMMddHH')...parseDateTime(TARGET_RUN_DATE + '00').minusDays(1).toString('yyyyMMdd')",
    maestroUs: 18,
    sel: "DateTimeFormatter f = DateTimeFormat.forPattern('yyyyMMddHH').withZone(DateTimeZone.forID('UTC')); return f.parseDateTime(TARGET_RUN_DATE + '00').minusDays(1).toString('yyyyMMdd');",
    vars: { TARGET_RUN_DATE: '20240315' },
    js: (() => {
      const v = { TARGET_RUN_DATE: '20240315' };
      return () => {
        const s = `${v.TARGET_RUN_DATE}00`;
        const t = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)), Number(s.slice(8, 10)));
        const d = new Date(t - 86_400_000);
        return `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
      };
    })(),
  },
];

const ROUNDS = 9;
const ROUND_MS = 25;
/** CPU a function runs before it is timed, so that optimising compilers (whose background threads count as CPU of this process) have settled. */
const WARMUP_MS = 250;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Timing {
  /** Median CPU ns per call. */
  cpu: number;
  /** Median wall-clock ns per call. */
  wall: number;
}

/** CPU microseconds used by this process so far. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Warms a runner up for WARMUP_MS of CPU (in growing batches, so that a first slow call, which
 * compiles code, cannot decide the batch size), then answers a batch size that takes ~roundMs.
 */
function warmUp(run: Runner, roundMs = ROUND_MS): number {
  const warm0 = cpuMicros();
  let batch = 1;
  for (;;) {
    const c0 = cpuMicros();
    for (let i = 0; i < batch; i++) run();
    const now = cpuMicros();
    const ms = (now - c0) / 1000;
    if (now - warm0 >= WARMUP_MS * 1000 && (ms >= roundMs / 4 || batch > 1e7)) {
      return Math.max(1, Math.round((batch * roundMs) / Math.max(ms, 0.001)));
    }
    if (ms < roundMs) batch *= 2;
  }
}

/** One timed batch: CPU and wall ns per call. */
function round(run: Runner, batch: number): { cpu: number; wall: number } {
  const c0 = cpuMicros();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) run();
  const wall = Number(process.hrtime.bigint() - t0) / batch;
  return { cpu: ((cpuMicros() - c0) * 1000) / batch, wall };
}

/** Median ns per call: warm up for WARMUP_MS and size a batch to ~ROUND_MS of CPU, then time ROUNDS batches. */
function time(run: Runner): Timing {
  const batch = warmUp(run);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = round(run, batch);
    wall.push(t.wall);
    cpu.push(t.cpu);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

/** Rounds of the paired comparisons: short, many, and alternating between the runners. */
const PAIRED_ROUNDS = 31;
const PAIRED_ROUND_MS = 10;

/**
 * Times several runners in alternating rounds (round r runs each once, in an order that rotates
 * from round to round), so that a drift of the machine's speed hits all of them alike: per-round
 * ratios between them compare like with like. Answers each runner's CPU ns per call of every round.
 */
function timePaired(runs: Runner[]): { cpu: number[][]; wall: number[][] } {
  const batches = runs.map((run) => warmUp(run, PAIRED_ROUND_MS));
  const cpu: number[][] = runs.map(() => []);
  const wall: number[][] = runs.map(() => []);
  for (let r = 0; r < PAIRED_ROUNDS; r++) {
    for (let k = 0; k < runs.length; k++) {
      const i = (r + k) % runs.length;
      const t = round(runs[i]!, batches[i]!);
      cpu[i]!.push(t.cpu);
      wall[i]!.push(t.wall);
    }
  }
  return { cpu, wall };
}

async function timeAsync(run: AsyncRunner): Promise<Timing> {
  const batch = 2000;
  for (let i = 0; i < batch; i++) await run();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = cpuMicros();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await run();
    wall.push(Number(process.hrtime.bigint() - t0) / batch);
    cpu.push(((cpuMicros() - c0) * 1000) / batch);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

type Row = Record<string, number | string | undefined>;

/** Issue 15's targets: no slower than cel-js compiled, at least 3× faster than Maestro cold. */
const MAX_RATIO_VS_CELJS = 1.0;
const MIN_COLD_VS_MAESTRO = 3;

function round3(v: unknown): number | null {
  return typeof v === 'number' ? Number(v.toFixed(3)) : null;
}

/** Whether a program meets both targets (by the paired ratios); `celjs` is null where cel-js has no such program. */
function meetsTargets(r: Row): { celjs: boolean | null; maestro_cold: boolean; both: boolean } {
  const celjs = typeof r.ratio_vs_celjs_paired === 'number' ? r.ratio_vs_celjs_paired <= MAX_RATIO_VS_CELJS : null;
  const maestroCold = typeof r.cold_vs_maestro_paired === 'number' && r.cold_vs_maestro_paired >= MIN_COLD_VS_MAESTRO;
  return { celjs, maestro_cold: maestroCold, both: celjs !== false && maestroCold };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const c of CASES) {
    const row: Row = { program: c.name };
    const program = compile(c.sel, { maestro: true });
    const check = program.evaluate(c.vars);
    const maestroNs = c.maestroUs * 1000;
    if (check.ok) {
      // baton compiled, baton cold and cel-js compiled in alternating rounds (see timePaired).
      const runs: Runner[] = [() => program.evaluate(c.vars), () => compile(c.sel, { maestro: true, noCache: true }).evaluate(c.vars)];
      if (c.cel) {
        const fn = celParse(c.cel.expr);
        const vars = c.cel.vars;
        runs.push(() => fn(vars));
      }
      const paired = timePaired(runs);
      const [compiled, cold, cel] = paired.cpu as [number[], number[], number[] | undefined];
      row.baton_compiled = median(compiled);
      row.baton_compiled_wall = median(paired.wall[0]!);
      row.baton_cold = median(cold);
      row.baton_cold_wall = median(paired.wall[1]!);
      row.cold_vs_maestro_paired = median(cold.map((x) => maestroNs / x));
      if (cel) {
        row.celjs_compiled = median(cel);
        row.ratio_vs_celjs_paired = median(compiled.map((x, r) => x / cel[r]!));
      }
    } else {
      row.baton_error = `${check.error.kind}: ${check.error.message}`;
      if (c.cel) {
        const fn = celParse(c.cel.expr);
        const vars = c.cel.vars;
        row.celjs_compiled = time(() => fn(vars)).cpu;
      }
    }
    if (c.jexl) {
      const expr = jexl.compile(c.jexl.expr);
      const vars = c.jexl.vars;
      row.jexl = time(() => expr.evalSync(vars)).cpu;
    }
    if (c.jsonata) {
      const expr = jsonata(c.jsonata.expr);
      const vars = c.jsonata.vars;
      row.jsonata = (await timeAsync(() => expr.evaluate(vars))).cpu;
    }
    row.js = time(c.js).cpu;
    row.maestro = maestroNs;
    rows.push(row);
  }

  const cols = ['baton_compiled', 'baton_cold', 'celjs_compiled', 'jexl', 'jsonata', 'js', 'maestro', 'ratio_vs_celjs_paired', 'cold_vs_maestro_paired'];
  const fmt = (v: unknown, c?: string): string =>
    typeof v === 'number' ? (c?.endsWith('_paired') ? v.toFixed(2) : Math.round(v).toString()) : v === undefined ? '-' : String(v);
  console.log('median CPU ns per evaluation (lower is better)');
  console.log('(ratio_vs_celjs_paired: median of per-round baton/cel-js; cold_vs_maestro_paired: median of per-round Maestro/baton cold)');
  console.log(['#', ...cols.map((c) => c.replace('_paired', ''))].map((c) => c.padStart(15)).join('') + '  program');
  rows.forEach((r, i) => {
    console.log([String(i + 1), ...cols.map((c) => fmt(r[c], c))].map((c) => c.padStart(15)).join('') + `  ${String(r.program).slice(0, 70)}`);
    if (r.baton_error) console.log(`      baton error: ${String(r.baton_error)}`);
  });

  const celRatios = rows.filter((r) => typeof r.celjs_compiled === 'number' && typeof r.baton_compiled === 'number')
    .map((r) => (r.baton_compiled as number) / (r.celjs_compiled as number));
  const geo = celRatios.length ? Math.exp(celRatios.reduce((a, x) => a + Math.log(x), 0) / celRatios.length) : null;
  const paired = rows.filter((r) => typeof r.ratio_vs_celjs_paired === 'number').map((r) => r.ratio_vs_celjs_paired as number);
  const pairedGeo = paired.length ? Math.exp(paired.reduce((a, x) => a + Math.log(x), 0) / paired.length) : null;
  const summary = {
    ratio_vs_celjs: geo === null ? null : Number(geo.toFixed(3)),
    ratio_vs_celjs_paired: pairedGeo === null ? null : Number(pairedGeo.toFixed(3)),
    programs: rows.map((r, i) => ({
      id: i + 1,
      program: r.program,
      baton_compiled_ns: r.baton_compiled ?? null,
      baton_cold_ns: r.baton_cold ?? null,
      baton_compiled_wall_ns: r.baton_compiled_wall ?? null,
      baton_cold_wall_ns: r.baton_cold_wall ?? null,
      celjs_compiled_ns: r.celjs_compiled ?? null,
      jexl_ns: r.jexl ?? null,
      jsonata_ns: r.jsonata ?? null,
      js_ns: r.js ?? null,
      maestro_ns: r.maestro,
      ratio_vs_celjs_paired: round3(r.ratio_vs_celjs_paired),
      cold_vs_maestro_paired: round3(r.cold_vs_maestro_paired),
      error: r.baton_error ?? null,
    })),
    clock: 'process CPU time',
    cold_vs_maestro: rows.map((r) => (typeof r.baton_cold === 'number' ? Number(((r.maestro as number) / r.baton_cold).toFixed(2)) : null)),
    pairing: `baton compiled, baton cold and cel-js compiled timed in ${PAIRED_ROUNDS} alternating rounds; *_paired are medians of per-round ratios`,
    targets: { max_ratio_vs_celjs: MAX_RATIO_VS_CELJS, min_cold_vs_maestro: MIN_COLD_VS_MAESTRO },
    meets_targets: Object.fromEntries(rows.map((r, i) => [String(i + 1), meetsTargets(r)])),
  };
  console.log(JSON.stringify(summary));
}

await main();
