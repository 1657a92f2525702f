import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, startPostgres } from '../../scripts/infra/index.js';
import { call } from './client.js';
import { BatonNode, sleep } from './cluster.js';
import { JOIN_WF, MANUAL_WF, SIGNAL_A, SIGNAL_B, workflowDefinitions } from './workflows.js';

export interface SoakOptions {
  minutes: number;
  /** Seconds between samples (default 30). */
  sampleSeconds?: number;
  /** Requests per second the load aims at (default 20). */
  rate?: number;
  log: (line: string) => void;
}

export interface SoakSample {
  t_s: number;
  rss_mb: number;
  vm_data_mb: number;
  heap_used_mb: number | null;
  requests: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
}

export interface SoakSummary {
  minutes: number;
  requests: number;
  errors: number;
  instances: number;
  non_terminal: number;
  rss_start_mb: number;
  rss_end_mb: number;
  rss_max_mb: number;
  heap_start_mb: number | null;
  heap_end_mb: number | null;
  p50_ms: number;
  p99_ms: number;
  p99_max_ms: number;
}

/** VmRSS and VmData of a process, in MiB, from /proc/<pid>/status. */
async function procMemory(pid: number): Promise<{ rss: number; data: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, data: kb('VmData') / 1024 };
}

/** V8 heap in use, from the process's own Prometheus metrics (null when not exported). */
async function heapUsed(url: string, token: string): Promise<number | null> {
  const r = await call(url, token, 'GET', '/metrics');
  if (r.status !== 200 || typeof r.body !== 'string') return null;
  const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})?\s+([\d.e+]+)/m.exec(r.body);
  return m ? Number(m[1]) / 1024 / 1024 : null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * Steady mixed load against one Baton process on PostgreSQL: signal publishes (pairs that start
 * the join workflow) and manual starts, at a fixed rate. Samples memory and latency as it goes.
 */
export async function runSoak(o: SoakOptions): Promise<SoakSummary> {
  const every = (o.sampleSeconds ?? 30) * 1000;
  const rate = o.rate ?? 20;
  const work = await mkdtemp(path.join(os.tmpdir(), 'baton-soak-'));
  const pgServer = await startPostgres();
  const token = randomBytes(24).toString('hex');
  let node: BatonNode | undefined;
  let pool: pg.Pool | undefined;
  try {
    const database = await createDatabase(pgServer.url, 'baton_soak');
    node = new BatonNode({
      name: 'baton-soak',
      env: { ...process.env, DATABASE_URL: database.url, BATON_TOKENS: `soak:admin:${token}`, BATON_TIME_SCALE: '0.1', BATON_PUBLISH_RATE_LIMIT: '0', LOG_LEVEL: 'warn' },
      logFile: path.join(work, 'baton.log'),
    });
    await node.start();
    const url = node.url;
    for (const wf of workflowDefinitions(1)) {
      if (wf.id !== MANUAL_WF && wf.id !== JOIN_WF) continue;
      const r = await call(url, token, 'POST', '/api/v3/workflows', wf.body);
      if (r.status !== 200) throw new Error(`pushing ${wf.id} failed: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const pid = node.pid!;
    o.log(`soak: ${o.minutes} min at ${rate} requests/s against pid ${pid} (log ${work}/baton.log)`);

    const began = Date.now();
    const end = began + o.minutes * 60_000;
    let window: number[] = [];
    const all: number[] = [];
    let requests = 0;
    let errors = 0;
    let windowRequests = 0;
    let windowErrors = 0;
    let seq = 0;
    const samples: SoakSample[] = [];
    const sample = async (): Promise<void> => {
      const mem = await procMemory(pid);
      const sorted = [...window].sort((a, b) => a - b);
      const s: SoakSample = {
        t_s: Math.round((Date.now() - began) / 1000),
        rss_mb: round(mem.rss),
        vm_data_mb: round(mem.data),
        heap_used_mb: await heapUsed(url, token).then((h) => (h === null ? null : round(h))),
        requests: windowRequests,
        errors: windowErrors,
        p50_ms: round(percentile(sorted, 50)),
        p99_ms: round(percentile(sorted, 99)),
      };
      samples.push(s);
      o.log(`t=${s.t_s}s rss ${s.rss_mb} MB, VmData ${s.vm_data_mb} MB, heap ${s.heap_used_mb ?? '-'} MB, ${s.requests} requests (${s.errors} errors), p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms`);
      window = [];
      windowRequests = 0;
      windowErrors = 0;
    };
    await sample();

    const one = async (): Promise<void> => {
      const i = seq++;
      const kind = i % 3;
      const r =
        kind === 0
          ? await call(url, token, 'POST', `/api/v3/workflows/${MANUAL_WF}/versions/active/actions/start`, { request_id: `soak-${i}` })
          : await call(url, token, 'POST', '/api/v3/signals', { name: kind === 1 ? SIGNAL_A : SIGNAL_B, params: { key: `s${Math.floor(i / 3)}` }, request_id: `soak-${i}` });
      requests++;
      windowRequests++;
      if (r.status !== 200) {
        errors++;
        windowErrors++;
      }
      window.push(r.ms);
      all.push(r.ms);
    };
    const inflight = new Set<Promise<void>>();
    let nextSample = began + every;
    const gap = 1000 / rate;
    for (let due = Date.now(); Date.now() < end; due += gap) {
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const p = one().finally(() => inflight.delete(p));
      inflight.add(p);
      // The last window is sampled after the loop, with the requests still in flight.
      if (Date.now() >= nextSample && nextSample < end) {
        nextSample += every;
        await sample();
      }
    }
    await Promise.all([...inflight]);
    await sample();

    pool = new pg.Pool({ connectionString: database.url, max: 1 });
    // An idle client hears PostgreSQL shut down at teardown; without a listener that ends the run
    // before its summary is printed.
    pool.on('error', () => {});
    const deadline = Date.now() + 60_000;
    let counts = { n: 0, open: 0 };
    do {
      if (counts.n > 0) await sleep(1000);
      const q = await pool.query<{ n: number; open: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE status NOT IN ('SUCCEEDED','FAILED','STOPPED','TIMED_OUT'))::int AS open FROM baton_workflow_instances`,
      );
      counts = q.rows[0]!;
    } while (counts.open > 0 && Date.now() < deadline);

    console.log('t_s  rss_mb  vm_data_mb  heap_used_mb  requests  errors  p50_ms  p99_ms');
    for (const s of samples) {
      console.log(
        [s.t_s, s.rss_mb, s.vm_data_mb, s.heap_used_mb ?? '-', s.requests, s.errors, s.p50_ms, s.p99_ms].map((v, i) => String(v).padStart([4, 7, 11, 13, 9, 7, 7, 7][i]!)).join(' '),
      );
    }
    const sorted = all.sort((a, b) => a - b);
    const first = samples[0]!;
    const last = samples.at(-1)!;
    return {
      minutes: o.minutes,
      requests,
      errors,
      instances: counts.n,
      non_terminal: counts.open,
      rss_start_mb: first.rss_mb,
      rss_end_mb: last.rss_mb,
      rss_max_mb: Math.max(...samples.map((x) => x.rss_mb)),
      heap_start_mb: first.heap_used_mb,
      heap_end_mb: last.heap_used_mb,
      p50_ms: round(percentile(sorted, 50)),
      p99_ms: round(percentile(sorted, 99)),
      p99_max_ms: Math.max(...samples.slice(1).map((s) => s.p99_ms)),
    };
  } finally {
    await node?.stop().catch(() => {});
    await pool?.end().catch(() => {});
    await pgServer.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}
