/**
 * Growth benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL,
 * else a throwaway server started here): does Baton's cost stay flat as stored history grows?
 *
 * Up front it checks the free disk on the data directory's filesystem against the largest size
 * (bench/scale-disk.ts; BENCH_SCALE_SKIP_DISK_CHECK=1 skips). One database is then filled in steps
 * to each size of BENCH_SCALE_SIZES live stored signals (default 1000000,5000000,20000000) with
 * server-side bulk SQL in BENCH_SCALE_FILL_SESSIONS parallel sessions (default 2; bench/scale-fill.ts:
 * 100 names, created over the past retention period with expire_at = create + retention, in the day
 * partitions as published rows are, with their dedupe keys; one finished run with its timeline and
 * lineage edge per 20 signals), plus BENCH_SCALE_EXPIRED_PERCENT (default 5) % more that expired
 * yesterday; VACUUM ANALYZE; then the retention pass (measured) drops the expired partition, so each
 * size is as labelled. At each size, with 100 signal triggers active and the matcher running:
 *  - the plans of the measured queries (auto_explain): a warning names any Seq Scan of a big table;
 *  - REST batch publish rate: BENCH_SCALE_BATCHES (default 20) POSTs of 1,000 signals, 4 clients;
 *  - Kafka ingest rate: BENCH_SCALE_KAFKA_MESSAGES (default 50,000) JSON messages through the
 *    KafkaIngestor, on the broker named by BATON_BENCH_KAFKA_BROKERS (else BATON_TEST_KAFKA_BROKERS),
 *    else on one started here (scripts/infra/kafka.ts; BENCH_SCALE_KAFKA=0 skips; n/a with the
 *    reason when it cannot start);
 *  - publish → instance-created p50/p99 at 500 signals/s for BENCH_SCALE_LATENCY_SECONDS (default 5);
 *  - query p50/p99 warm, over BENCH_SCALE_QUERY_RUNS (default 1000) calls after 10 warm-up calls,
 *    and the first call after the fill: a signal name's newest page, the lineage of a signal that
 *    started a run (depth 3), the instance list (newest 50 SUCCEEDED);
 *  - bytes on disk (database; signal tables; run tables).
 * Then BENCH_DRAIN_INSTANCES (default 100,000) instances of a one-NoOp PARALLEL workflow
 * (workflow_concurrency BENCH_DRAIN_WORKFLOW_CONCURRENCY, default 500; engine concurrency
 * BENCH_DRAIN_ENGINE_CONCURRENCY, default 32) are queued at once and drained by one engine; the
 * drain rate is reported at 100% (after the first wave of workflow_concurrency), 50% and 10% left
 * (a window of 5% of the backlog each).
 * Targets: at the largest size, REST publish and Kafka ingest rates and every query's p99 (and the
 * publish → instance p99) within 1.2x of the smallest size's; drain >= 300 instances/s in every
 * window and the first window within 1.5x of the last. Prints a table and, as its last line, one
 * JSON object with the growth ratios and pass/fail per target (bench/scale-report.ts).
 */
import Fastify from 'fastify';
import { loadavg } from 'node:os';
import { engineMigrations, migrate, PgDb, stringifyJson as stringifyDefinition, workflowToJson, definitionHash, parseWorkflowJson } from '@baton/engine-core';
import { SignalService, signalsMigrations } from '@baton/signals';
import { signalRoutes } from '../packages/server/src/routes/signals.js';
import { createWorkflowStarter } from '../packages/server/src/wiring/starter.js';
import { startKafka, type KafkaServer } from '../scripts/infra/kafka.js';
import { createDatabase } from '../scripts/infra/postgres.js';
import { postgresCpuSeconds, postmasterOf } from './scale-cpu.js';
import { checkDisk, diskBytes } from './scale-disk.js';
import { measureDrain } from './scale-drain.js';
import { checkPlans } from './scale-explain.js';
import { fillSignals, FILL_NAMES, storedSignals, vacuumAnalyze } from './scale-fill.js';
import { closeAgent, kafkaIngestRate, lineagePicks, publishToInstance, queries, queryTimes, restPublishRate, retentionPass } from './scale-measure.js';
import { report, type SizeFigures } from './scale-report.js';
import { benchPostgres, signalTriggerDefinition } from './support.js';

const env = (k: string, d: string) => process.env[k] ?? d;
const SIZES = env('BENCH_SCALE_SIZES', '1000000,5000000,20000000').split(',').map(Number);
const BATCHES = Number(env('BENCH_SCALE_BATCHES', '20'));
const KAFKA_MESSAGES = Number(env('BENCH_SCALE_KAFKA_MESSAGES', '50000'));
const LATENCY_SECONDS = Number(env('BENCH_SCALE_LATENCY_SECONDS', '5'));
const QUERY_RUNS = Number(env('BENCH_SCALE_QUERY_RUNS', '1000'));
const FILL_SESSIONS = Number(env('BENCH_SCALE_FILL_SESSIONS', '2'));
const EXPIRED_FRACTION = Number(env('BENCH_SCALE_EXPIRED_PERCENT', '5')) / 100;
const DRAIN = Number(env('BENCH_DRAIN_INSTANCES', '100000'));
const FILL_WORKFLOW = 'bench-fill';

const say = (msg: string) => process.stderr.write(`bench: ${new Date().toISOString()} ${msg}\n`);

async function kafkaBrokers(): Promise<{ brokers?: string[]; server?: KafkaServer; na?: string }> {
  const named = (process.env.BATON_BENCH_KAFKA_BROKERS ?? process.env.BATON_TEST_KAFKA_BROKERS)?.split(',').filter(Boolean);
  if (named && named.length > 0) return { brokers: named };
  if (process.env.BENCH_SCALE_KAFKA === '0') return { na: 'n/a: BENCH_SCALE_KAFKA=0' };
  try {
    const server = await startKafka({ heap: '512m', log: say });
    return { brokers: server.brokers, server };
  } catch (err) {
    say(`no Kafka broker: ${(err as Error).message}`);
    return { na: `n/a: no broker (${(err as Error).message.split('\n')[0]})` };
  }
}

async function main(): Promise<void> {
  const benchStart = performance.now();
  if (SIZES.some((s) => !Number.isInteger(s) || s <= 0) || SIZES.some((s, i) => i > 0 && s <= SIZES[i - 1]!)) throw new Error(`BENCH_SCALE_SIZES must be increasing positive integers: ${SIZES.join(',')}`);
  const server = await benchPostgres();
  const database = await createDatabase(server.adminUrl, 'baton_bench');
  const db = new PgDb({ connectionString: database.url, max: 16, applicationName: 'scale-bench' });
  let kafka: Awaited<ReturnType<typeof kafkaBrokers>> = {};
  let signals: SignalService | undefined;
  try {
    const disk = await checkDisk(db, SIZES.at(-1)!);
    say(disk.message);
    if (!disk.ok && process.env.BENCH_SCALE_SKIP_DISK_CHECK !== '1') throw new Error(`${disk.message}: free space first, or run smaller BENCH_SCALE_SIZES (BENCH_SCALE_SKIP_DISK_CHECK=1 to go on anyway)`);
    kafka = await kafkaBrokers();
    await migrate(db, [engineMigrations, signalsMigrations]);
    const postmaster = await postmasterOf(db);
    const definitions = Array.from({ length: FILL_NAMES }, (_, k) => signalTriggerDefinition(`bench-wf-${k}`, `bench/n${k}`, 'S', [noOpStep()]));
    await db.query(`INSERT INTO baton_workflows (workflow_id, latest_version, active_version) SELECT w, 1, 1 FROM unnest($1::text[]) AS w`, [definitions.map((d) => d.workflowId)]);
    await db.query(
      `INSERT INTO baton_workflow_versions (workflow_id, version, definition, properties, content_hash)
       SELECT w, 1, d::jsonb, '{}'::jsonb, h FROM unnest($1::text[], $2::text[], $3::text[]) AS x(w, d, h)`,
      [definitions.map((d) => d.workflowId), definitions.map((d) => stringifyDefinition(workflowToJson(d.workflow))), definitions.map((d) => definitionHash(d.workflow))],
    );
    const service = (q: PgDb) => new SignalService(q, { starter: createWorkflowStarter(q), expressions: { condition: () => true, dedupKey: () => undefined }, matcherConcurrency: 2 });
    signals = service(db);
    for (const d of definitions) await signals.syncSubscriptions(d.workflowId, d);
    await signals.start();
    const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
    await app.register(signalRoutes, { signals });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });

    const sizes: SizeFigures[] = [];
    for (const size of SIZES) {
      say(`filling to ${size} signals`);
      const cpu0 = postgresCpuSeconds(postmaster);
      const fill = await fillSignals(db, size, FILL_WORKFLOW, { sessions: FILL_SESSIONS, expiredFraction: EXPIRED_FRACTION, progress: say });
      const a0 = performance.now();
      await vacuumAnalyze(db, FILL_SESSIONS);
      const analyzeSeconds = (performance.now() - a0) / 1000;
      const cpu1 = postgresCpuSeconds(postmaster);
      const fillCpuSeconds = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
      say(`+${fill.live} live and ${fill.expired} expired signals, +${fill.runs} runs in ${fill.seconds.toFixed(0)} s; VACUUM ANALYZE ${analyzeSeconds.toFixed(0)} s; retention pass`);
      const m0 = performance.now();
      const retention = await retentionPass(db);
      const stored = await storedSignals(db);
      say(`${stored} signals stored; retention dropped ${retention.partitions} partitions (${retention.rows} rows) in ${retention.ms.toFixed(0)} ms; measuring`);
      const picks = await lineagePicks(db);
      const plans = await checkPlans(db, database.url, Object.fromEntries(Object.entries(queries(picks, service)).map(([k, f]) => [k, (q: PgDb) => f(q, 0)])));
      if (plans.unavailable) say(`plan check: ${plans.unavailable}`);
      for (const [label, tables] of Object.entries(plans.seqScans)) if (tables.length > 0) say(`WARNING: at ${stored} signals the ${label} query does a Seq Scan on ${tables.join(', ')}`);
      const tag = `s${size}`;
      const restPublishPerSecond = await restPublishRate(address, BATCHES, tag);
      const kafkaIngestPerSecond = kafka.brokers
        ? await kafkaIngestRate(db, kafka.brokers, KAFKA_MESSAGES, tag).catch((err: unknown) => `n/a: ${(err as Error).message.split('\n')[0]}`)
        : (kafka.na ?? 'n/a');
      // The matcher finishes the published batches first, so the latency phase measures itself.
      const matched = performance.now() + 300_000;
      while (Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM signal_match_queue')).rows[0]!.n) > 0) {
        if (performance.now() > matched) {
          say('WARNING: match jobs still queued after 300 s; measuring the latency anyway');
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const latency = await publishToInstance(db, address, 500, LATENCY_SECONDS, tag);
      const times = await queryTimes(db, QUERY_RUNS, service);
      sizes.push({
        signals: stored,
        fill: { ...fill, analyzeSeconds, cpuSeconds: fillCpuSeconds },
        restPublishPerSecond,
        kafkaIngestPerSecond,
        latency,
        queries: times,
        seqScans: plans.unavailable ? plans.unavailable : plans.seqScans,
        retention,
        bytes: await diskBytes(db),
        load: loadavg()[0]!,
      });
      say(`size ${stored} done: publish ${Math.round(restPublishPerSecond)}/s, latency p99 ${latency.p99.toFixed(0)} ms, ${((performance.now() - benchStart) / 60000).toFixed(1)} min so far`);
      // What is left, from this step's cost: the fill (with VACUUM ANALYZE) per million rows, a measuring round per size, the drain at the 300/s target.
      const perMillion = ((fill.seconds + analyzeSeconds) / Math.max(1, fill.live + fill.expired)) * 1e6;
      const later = SIZES.slice(SIZES.indexOf(size) + 1);
      const rowsLeft = later.length > 0 ? (later.at(-1)! - stored) * (1 + EXPIRED_FRACTION) : 0;
      const leftSeconds = (rowsLeft / 1e6) * perMillion + later.length * ((performance.now() - m0) / 1000) + DRAIN / 300;
      if (fillCpuSeconds !== undefined) say(`fill + VACUUM ANALYZE used ${fillCpuSeconds.toFixed(0)} s of PostgreSQL CPU (${((fillCpuSeconds / Math.max(1, fill.live + fill.expired)) * 1e6).toFixed(0)} s per million rows; on a quiet machine about half that in wall time with 2 sessions on 2 cores)`);
      say(`estimate: about ${(leftSeconds / 60).toFixed(0)} min left (fill ${perMillion.toFixed(0)} s per million rows here, ${((performance.now() - m0) / 1000).toFixed(0)} s of measuring per size, the drain at 300/s)`);
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
    report(sizes, drain, (performance.now() - benchStart) / 1000);
  } finally {
    closeAgent();
    await signals?.stop();
    await db.close();
    await database.drop();
    await kafka.server?.stop();
    await server.stop();
  }
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
