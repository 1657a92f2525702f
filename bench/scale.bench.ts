/**
 * Growth benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL,
 * else a throwaway server started here): does Baton's cost stay flat as stored history grows?
 *
 * One database is filled in steps to each size of BENCH_SCALE_SIZES stored signals (default
 * 1000000,5000000,20000000), with server-side bulk SQL (bench/scale-fill.ts: signals over 100
 * names and the past 30 days, one finished run with its lineage edge per 20 signals), ANALYZEd,
 * and at each size measures side by side, with 100 signal triggers active and the matcher running:
 *  - REST batch publish rate: BENCH_SCALE_BATCHES (default 20) POSTs of 1,000 signals, 4 clients;
 *  - Kafka ingest rate: BENCH_SCALE_KAFKA_MESSAGES (default 20,000) JSON messages through the
 *    KafkaIngestor, when a broker is named (BATON_BENCH_KAFKA_BROKERS, else
 *    BATON_TEST_KAFKA_BROKERS) or BENCH_SCALE_KAFKA=1 starts one; else reported n/a;
 *  - publish → instance-created p99 at 500 signals/s for BENCH_SCALE_LATENCY_SECONDS (default 5);
 *  - query p50/p99 over BENCH_SCALE_QUERY_RUNS (default 200): a signal name's newest page, the
 *    lineage of a signal that started a run (depth 3), the instance list (newest 50 SUCCEEDED);
 *  - the retention pass time (once retention is merged; else "n/a: retention not merged");
 *  - bytes on disk (database; signal and lineage tables; run tables).
 * Then BENCH_DRAIN_INSTANCES (default 100,000) instances of a one-NoOp PARALLEL workflow
 * (workflow_concurrency BENCH_DRAIN_WORKFLOW_CONCURRENCY, default 500; engine concurrency
 * BENCH_DRAIN_ENGINE_CONCURRENCY, default 32) are queued at once and drained by one engine; the
 * drain rate is reported at 100% (after the first wave of workflow_concurrency), 50% and 10% left
 * (a window of 5% of the backlog each).
 * Targets: at the largest size, publish rate and every query's p99 within 1.2x of the smallest
 * size's; drain >= 300 instances/s in every window and the first window within 1.5x of the last.
 * Prints a table and, as its last line, one JSON object.
 */
import Fastify from 'fastify';
import { loadavg } from 'node:os';
import { engineMigrations, migrate, PgDb, stringifyJson as stringifyDefinition, workflowToJson, definitionHash, parseWorkflowJson } from '@baton/engine-core';
import { SignalService, signalsMigrations } from '@baton/signals';
import { signalRoutes } from '../packages/server/src/routes/signals.js';
import { createWorkflowStarter } from '../packages/server/src/wiring/starter.js';
import { startKafka } from '../scripts/infra/kafka.js';
import { createDatabase } from '../scripts/infra/postgres.js';
import { measureDrain, type DrainResult } from './scale-drain.js';
import { diskBytes, fillSignals, FILL_NAMES, storedSignals } from './scale-fill.js';
import { closeAgent, kafkaIngestRate, publishToInstance, queryTimes, restPublishRate, retentionPass, type QueryTimes } from './scale-measure.js';
import { benchPostgres, signalTriggerDefinition } from './support.js';

const env = (k: string, d: string) => process.env[k] ?? d;
const SIZES = env('BENCH_SCALE_SIZES', '1000000,5000000,20000000').split(',').map(Number);
const BATCHES = Number(env('BENCH_SCALE_BATCHES', '20'));
const KAFKA_MESSAGES = Number(env('BENCH_SCALE_KAFKA_MESSAGES', '20000'));
const LATENCY_SECONDS = Number(env('BENCH_SCALE_LATENCY_SECONDS', '5'));
const QUERY_RUNS = Number(env('BENCH_SCALE_QUERY_RUNS', '200'));
const DRAIN = Number(env('BENCH_DRAIN_INSTANCES', '100000'));
const FILL_WORKFLOW = 'bench-fill';

const say = (msg: string) => process.stderr.write(`bench: ${new Date().toISOString()} ${msg}\n`);

interface SizeFigures {
  signals: number;
  fillSeconds: number;
  restPublishPerSecond: number;
  kafkaIngestPerSecond: number | string;
  latency: { p50: number; p99: number; started: number; expected: number };
  queries: Record<'signalList' | 'lineage' | 'instanceList', QueryTimes>;
  retentionMs: number | string;
  bytes: { database: number; signals: number; runs: number };
  load: number;
}

async function main(): Promise<void> {
  const server = await benchPostgres();
  const database = await createDatabase(server.adminUrl, 'baton_bench');
  const db = new PgDb({ connectionString: database.url, max: 16, applicationName: 'scale-bench' });
  let brokers = (process.env.BATON_BENCH_KAFKA_BROKERS ?? process.env.BATON_TEST_KAFKA_BROKERS)?.split(',').filter(Boolean);
  const kafkaServer = !brokers && process.env.BENCH_SCALE_KAFKA === '1' ? await startKafka({ heap: '512m' }) : undefined;
  if (kafkaServer) brokers = kafkaServer.brokers;
  let signals: SignalService | undefined;
  try {
    await migrate(db, [engineMigrations, signalsMigrations]);
    const definitions = Array.from({ length: FILL_NAMES }, (_, k) => signalTriggerDefinition(`bench-wf-${k}`, `bench/n${k}`, 'S', [noOpStep()]));
    await db.query(`INSERT INTO baton_workflows (workflow_id, latest_version, active_version) SELECT w, 1, 1 FROM unnest($1::text[]) AS w`, [definitions.map((d) => d.workflowId)]);
    await db.query(
      `INSERT INTO baton_workflow_versions (workflow_id, version, definition, properties, content_hash)
       SELECT w, 1, d::jsonb, '{}'::jsonb, h FROM unnest($1::text[], $2::text[], $3::text[]) AS x(w, d, h)`,
      [definitions.map((d) => d.workflowId), definitions.map((d) => stringifyDefinition(workflowToJson(d.workflow))), definitions.map((d) => definitionHash(d.workflow))],
    );
    signals = new SignalService(db, { starter: createWorkflowStarter(db), expressions: { condition: () => true, dedupKey: () => undefined }, matcherConcurrency: 2 });
    for (const d of definitions) await signals.syncSubscriptions(d.workflowId, d);
    await signals.start();
    const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
    await app.register(signalRoutes, { signals });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });

    const sizes: SizeFigures[] = [];
    for (const size of SIZES) {
      const f0 = performance.now();
      const filled = await fillSignals(db, size, FILL_WORKFLOW);
      await db.exec('VACUUM ANALYZE signal_instances, signal_lineage, baton_workflow_instances');
      const fillSeconds = (performance.now() - f0) / 1000;
      const stored = await storedSignals(db);
      say(`${stored} signals stored (+${filled.signals} signals, +${filled.runs} runs in ${fillSeconds.toFixed(0)} s); measuring`);
      const tag = `s${size}`;
      const restPublishPerSecond = await restPublishRate(address, BATCHES, tag);
      const kafkaIngestPerSecond = brokers ? await kafkaIngestRate(db, brokers, KAFKA_MESSAGES, tag) : 'n/a: no broker (set BATON_BENCH_KAFKA_BROKERS or BENCH_SCALE_KAFKA=1)';
      // The matcher finishes the published batches first, so the latency phase measures itself.
      while (Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM signal_match_queue')).rows[0]!.n) > 0) await new Promise((r) => setTimeout(r, 50));
      const latency = await publishToInstance(db, address, 500, LATENCY_SECONDS, tag);
      const queries = await queryTimes(db, signals, QUERY_RUNS);
      const retention = await retentionPass(db);
      sizes.push({
        signals: stored,
        fillSeconds,
        restPublishPerSecond,
        kafkaIngestPerSecond,
        latency,
        queries,
        retentionMs: 'ms' in retention ? retention.ms : retention.na,
        bytes: await diskBytes(db),
        load: loadavg()[0]!,
      });
      say(`size ${stored} done: publish ${Math.round(restPublishPerSecond)}/s, latency p99 ${latency.p99.toFixed(0)} ms`);
    }
    await app.close();
    await signals.stop();
    signals = undefined;

    say(`queueing ${DRAIN} instances for the drain`);
    const drain = await measureDrain(
      db,
      {
        instances: DRAIN,
        workflowConcurrency: Number(env('BENCH_DRAIN_WORKFLOW_CONCURRENCY', '500')),
        engineConcurrency: Number(env('BENCH_DRAIN_ENGINE_CONCURRENCY', '32')),
        timeoutSeconds: Number(env('BENCH_DRAIN_TIMEOUT_SECONDS', '900')),
      },
      say,
    );
    report(sizes, drain);
  } finally {
    closeAgent();
    await signals?.stop();
    await db.close();
    await database.drop();
    await kafkaServer?.stop();
    await server.stop();
  }
}

function report(sizes: SizeFigures[], drain: DrainResult): void {
  const n = (x: number | string, d = 0) => (typeof x === 'number' ? (Number.isFinite(x) ? x.toFixed(d) : 'n/a') : x);
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const q = (t: QueryTimes) => `${t.p50.toFixed(1)} / ${t.p99.toFixed(1)} ms`;
  const rows: [string, ...string[]][] = [
    ['stored signals', ...sizes.map((s) => String(s.signals))],
    ['fill time (bulk SQL)', ...sizes.map((s) => `${n(s.fillSeconds)} s`)],
    ['REST batch publish', ...sizes.map((s) => `${n(s.restPublishPerSecond)} signals/s`)],
    ['Kafka ingest', ...sizes.map((s) => (typeof s.kafkaIngestPerSecond === 'number' ? `${n(s.kafkaIngestPerSecond)} signals/s` : 'n/a'))],
    ['publish → instance at 500/s p50 / p99', ...sizes.map((s) => `${n(s.latency.p50)} / ${n(s.latency.p99)} ms (${s.latency.started}/${s.latency.expected})`)],
    ['signal list p50 / p99', ...sizes.map((s) => q(s.queries.signalList))],
    ['lineage p50 / p99', ...sizes.map((s) => q(s.queries.lineage))],
    ['instance list p50 / p99', ...sizes.map((s) => q(s.queries.instanceList))],
    ['retention pass', ...sizes.map((s) => (typeof s.retentionMs === 'number' ? `${n(s.retentionMs)} ms` : s.retentionMs))],
    ['database on disk', ...sizes.map((s) => mb(s.bytes.database))],
    ['  signal + lineage tables', ...sizes.map((s) => mb(s.bytes.signals))],
    ['  run tables', ...sizes.map((s) => mb(s.bytes.runs))],
    ['load average (1 min) at the end', ...sizes.map((s) => s.load.toFixed(1))],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  console.log(`drain of ${drain.instances} queued one-NoOp instances: ${drain.drained} ended (${drain.failed} not SUCCEEDED) in ${drain.totalSeconds.toFixed(1)} s, ${drain.overallPerSecond.toFixed(0)} instances/s overall`);
  for (const w of drain.windows) console.log(`  at ${w.left} left: ${n(w.perSecond)} instances/s (${w.ended} in ${n(w.seconds, 2)} s)`);
  const first = sizes[0]!;
  const last = sizes.at(-1)!;
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const growth = {
    publish_rate_first_over_last: ratio(first.restPublishPerSecond, last.restPublishPerSecond),
    signal_list_p99: ratio(last.queries.signalList.p99, first.queries.signalList.p99),
    lineage_p99: ratio(last.queries.lineage.p99, first.queries.lineage.p99),
    instance_list_p99: ratio(last.queries.instanceList.p99, first.queries.instanceList.p99),
    latency_p99: ratio(last.latency.p99, first.latency.p99),
  };
  const rates = drain.windows.map((w) => w.perSecond);
  const drainSteady = rates.length > 0 ? ratio(rates.at(-1)!, rates[0]!) : NaN;
  console.log(
    JSON.stringify({
      bench: 'scale',
      sizes: sizes.map((s) => ({ ...s, fillSeconds: Math.round(s.fillSeconds), restPublishPerSecond: Math.round(s.restPublishPerSecond) })),
      growth_last_vs_first: growth,
      drain: { ...drain, windows: drain.windows.map((w) => ({ ...w, perSecond: Math.round(w.perSecond) })) },
      drain_rate_10pct_over_100pct: drainSteady,
      targets: { growth_max: 1.2, drain_min_per_s: 300, drain_steady_max: 1.5 },
      pass: {
        growth: Object.values(growth).every((g) => g <= 1.2),
        drain_rate: rates.length > 0 && rates.every((r) => r >= 300),
        drain_steady: drainSteady <= 1.5,
      },
    }),
  );
}

function noOpStep() {
  const parsed = parseWorkflowJson(JSON.stringify({ workflow: { id: 'bench-template', steps: [{ step: { id: 'work', type: 'NoOp' } }] } }));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.value.workflow.steps[0]!;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
