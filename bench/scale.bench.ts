/**
 * Growth benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL,
 * else a throwaway server started here with the settings docs/operations.md recommends, from
 * scripts/infra/postgres-settings.ts; BENCH_SCALE_PG_SETTINGS=default runs it on PostgreSQL's own
 * defaults): does Baton's cost stay flat as stored history grows?
 *
 * Up front it checks the free disk on the data directory's filesystem against the largest size
 * (bench/scale-disk.ts; BENCH_SCALE_SKIP_DISK_CHECK=1 skips). One database is then filled in steps
 * to each size of BENCH_SCALE_SIZES live stored signals (default 1000000,5000000,20000000) with
 * server-side bulk SQL in BENCH_SCALE_FILL_SESSIONS parallel sessions (default 2; bench/scale-fill.ts:
 * 100 names, created over the past retention period with expire_at = create + retention, in the day
 * partitions as published rows are, with their dedupe keys; one finished run with its timeline and
 * lineage edge per 20 signals), plus BENCH_SCALE_EXPIRED_PERCENT (default 5) % more that expired
 * yesterday; VACUUM ANALYZE; then the retention pass (measured) drops the expired partition, so each
 * size is as labelled. At each size, with 100 signal triggers active and the matcher running
 * (before the publish phases and again before the queries the database settles: a CHECKPOINT
 * writes out what the bulk fill left dirty, and running autovacuum workers are waited for, at most
 * 60 s each; see settle() in bench/scale-measure.ts):
 *  - the plans of the measured queries (auto_explain): a warning names any Seq Scan of a big table;
 *  - REST batch publish rate: BENCH_SCALE_BATCHES (default 60) POSTs of 1,000 signals, 4 clients;
 *  - Kafka ingest rate: BENCH_SCALE_KAFKA_MESSAGES (default 50,000) JSON messages through the
 *    KafkaIngestor, on the broker named by BATON_BENCH_KAFKA_BROKERS (else BATON_TEST_KAFKA_BROKERS),
 *    else on one started here (scripts/infra/kafka.ts; BENCH_SCALE_KAFKA=0 skips; n/a with the
 *    reason when it cannot start);
 *  - publish → instance-created p50/p99 at 500 signals/s for BENCH_SCALE_LATENCY_SECONDS (default 10);
 *  - query p50/p99 warm, over BENCH_SCALE_QUERY_RUNS (default 2000) calls after 10 warm-up calls,
 *    and the first call after the fill: a signal name's newest page, the lineage of a signal that
 *    started a run (depth 3), the instance list (newest 50 SUCCEEDED);
 *  - bytes on disk (database; signal tables; run tables).
 * The reference database (a second database on the same server, filled once up front to the
 * smallest size less half of what the rounds below publish into it, so that it holds the smallest
 * size midway through them; with its own matcher and routes) and the growth database at the largest size are then
 * measured side by side: BENCH_SCALE_SIDE_ROUNDS (default 6; 0 skips) rounds in ABBA order of every
 * phase above except the plan check (half the Kafka messages and latency seconds, all the query
 * calls, per round: a p99 of 3-5 ms over 1,000 calls spread by 50% from round to round), compared by their medians (bench/scale-side.ts), so that a slow spell of the machine
 * falls on both sides rather than on one size's column.
 * Then BENCH_DRAIN_INSTANCES (default 100,000) instances of a one-NoOp PARALLEL workflow
 * (workflow_concurrency BENCH_DRAIN_WORKFLOW_CONCURRENCY, default 500; engine concurrency
 * BENCH_DRAIN_ENGINE_CONCURRENCY, default 32) are queued at once and drained by one engine; the
 * drain rate is reported at 100% (after the first wave of workflow_concurrency), 50% and 10% left
 * (a window of 5% of the backlog each).
 * Targets: at the largest size, REST publish and Kafka ingest rates and every query's p99 (and the
 * publish → instance p99) within 1.2x of the smallest size's (the side-by-side medians; the
 * per-size columns' ratio when the rounds are off, and in the JSON for information); drain >= 300 instances/s in every
 * window and the first window within 1.5x of the last. Prints a table and, as its last line, one
 * JSON object with the growth ratios and pass/fail per target (bench/scale-report.ts).
 */
import { loadavg } from 'node:os';
import { startKafka, type KafkaServer } from '../scripts/infra/kafka.js';
import { recommendedSettings } from '../scripts/infra/postgres-settings.js';
import { postgresCpuSeconds, postmasterOf } from './scale-cpu.js';
import { checkDisk, diskBytes } from './scale-disk.js';
import { measureDrain } from './scale-drain.js';
import { checkPlans } from './scale-explain.js';
import { fillSignals, storedSignals, vacuumAnalyze } from './scale-fill.js';
import { closeAgent, kafkaIngestRate, lineagePicks, publishToInstance, queries, queryTimes, restPublishRate, retentionPass, settle, waitMatched } from './scale-measure.js';
import { report, type SizeFigures } from './scale-report.js';
import { sideBySide, type SideBySide } from './scale-side.js';
import { openTarget, type Target } from './scale-target.js';
import { benchPostgres, runMain } from './support.js';

const env = (k: string, d: string) => process.env[k] ?? d;
const SIZES = env('BENCH_SCALE_SIZES', '1000000,5000000,20000000').split(',').map(Number);
const BATCHES = Number(env('BENCH_SCALE_BATCHES', '60'));
const KAFKA_MESSAGES = Number(env('BENCH_SCALE_KAFKA_MESSAGES', '50000'));
const LATENCY_SECONDS = Number(env('BENCH_SCALE_LATENCY_SECONDS', '10'));
const QUERY_RUNS = Number(env('BENCH_SCALE_QUERY_RUNS', '2000'));
const FILL_SESSIONS = Number(env('BENCH_SCALE_FILL_SESSIONS', '2'));
const EXPIRED_FRACTION = Number(env('BENCH_SCALE_EXPIRED_PERCENT', '5')) / 100;
const DRAIN = Number(env('BENCH_DRAIN_INSTANCES', '100000'));
const SIDE_ROUNDS = Number(env('BENCH_SCALE_SIDE_ROUNDS', '6'));
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
  if (!Number.isInteger(SIDE_ROUNDS) || SIDE_ROUNDS < 0) throw new Error(`BENCH_SCALE_SIDE_ROUNDS must be a whole number: ${SIDE_ROUNDS}`);
  const sideOn = SIDE_ROUNDS > 0 && SIZES.length > 1;
  // The throwaway server runs with the settings docs/operations.md recommends (BENCH_SCALE_PG_SETTINGS=default: PostgreSQL's own).
  const settings = env('BENCH_SCALE_PG_SETTINGS', 'recommended');
  if (settings !== 'recommended' && settings !== 'default') throw new Error(`BENCH_SCALE_PG_SETTINGS must be recommended or default: ${settings}`);
  const server = await benchPostgres(settings === 'recommended' ? recommendedSettings() : undefined);
  let kafka: Awaited<ReturnType<typeof kafkaBrokers>> = {};
  let growth: Target | undefined;
  let reference: Target | undefined;
  try {
    growth = await openTarget(server.adminUrl, 'baton_bench', 'growth');
    const { db, address, service } = growth;
    const shown = await db.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM unnest(ARRAY['shared_buffers', 'effective_cache_size', 'max_wal_size', 'checkpoint_timeout', 'random_page_cost']) AS name`,
    );
    say(`PostgreSQL settings: ${shown.rows.map((r) => `${r.name}=${r.setting}`).join(', ')}`);
    const disk = await checkDisk(db, SIZES.at(-1)! + (sideOn ? SIZES[0]! : 0));
    say(disk.message);
    if (!disk.ok && process.env.BENCH_SCALE_SKIP_DISK_CHECK !== '1') throw new Error(`${disk.message}: free space first, or run smaller BENCH_SCALE_SIZES (BENCH_SCALE_SKIP_DISK_CHECK=1 to go on anyway)`);
    kafka = await kafkaBrokers();
    const postmaster = await postmasterOf(db);
    const round = { batches: BATCHES, kafka: kafka.brokers ?? kafka.na ?? 'n/a', kafkaMessages: Math.max(1000, Math.round(KAFKA_MESSAGES / 2)), latencySeconds: Math.max(1, LATENCY_SECONDS / 2), queryRuns: QUERY_RUNS };
    if (sideOn) {
      // Filled once, to the smallest size less half of what the side-by-side rounds publish into
      // it, so that it holds the smallest size midway through the rounds; the largest is compared
      // with it side by side at the end.
      const published = SIDE_ROUNDS * (round.batches * 1000 + (typeof round.kafka === 'string' ? 0 : round.kafkaMessages) + 500 * round.latencySeconds);
      const fillTo = Math.max(Math.ceil(SIZES[0]! / 2), SIZES[0]! - Math.round(published / 2));
      reference = await openTarget(server.adminUrl, 'baton_bench_ref', 'reference');
      say(`filling the reference database to ${fillTo} signals (the rounds publish about ${published} more into it)`);
      await fillSignals(reference.db, fillTo, FILL_WORKFLOW, { sessions: FILL_SESSIONS, expiredFraction: EXPIRED_FRACTION, progress: say });
      await vacuumAnalyze(reference.db, FILL_SESSIONS);
      await retentionPass(reference.db);
      say(`reference database: ${await storedSignals(reference.db)} signals stored`);
    }

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
      const plans = await checkPlans(db, growth.database.url, Object.fromEntries(Object.entries(queries(picks, service)).map(([k, f]) => [k, (q: typeof db) => f(q, 0)])));
      if (plans.unavailable) say(`plan check: ${plans.unavailable}`);
      for (const [label, tables] of Object.entries(plans.seqScans)) if (tables.length > 0) say(`WARNING: at ${stored} signals the ${label} query does a Seq Scan on ${tables.join(', ')}`);
      const tag = `s${size}`;
      const settled = await settle(db);
      say(`settled before publishing: CHECKPOINT and autovacuum ${settled.ms.toFixed(0)} ms${settled.autovacuumRunning ? ' (autovacuum still running at the limit)' : ''}`);
      const restPublishPerSecond = await restPublishRate(address, BATCHES, tag);
      const kafkaIngestPerSecond = kafka.brokers
        ? await kafkaIngestRate(db, kafka.brokers, KAFKA_MESSAGES, tag).catch((err: unknown) => `n/a: ${(err as Error).message.split('\n')[0]}`)
        : (kafka.na ?? 'n/a');
      // The matcher finishes the published batches first, so the latency phase measures itself.
      if (!(await waitMatched(db))) say('WARNING: match jobs still queued after 300 s; measuring the latency anyway');
      const latency = await publishToInstance(db, address, 500, LATENCY_SECONDS, tag);
      const settledQ = await settle(db);
      say(`settled before the queries: ${settledQ.ms.toFixed(0)} ms${settledQ.autovacuumRunning ? ' (autovacuum still running at the limit)' : ''}`);
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
      // What is left, from this step's cost: the fill (with VACUUM ANALYZE) per million rows, a measuring round per size, the side-by-side rounds, the drain at the 300/s target.
      const perMillion = ((fill.seconds + analyzeSeconds) / Math.max(1, fill.live + fill.expired)) * 1e6;
      const later = SIZES.slice(SIZES.indexOf(size) + 1);
      const rowsLeft = later.length > 0 ? (later.at(-1)! - stored) * (1 + EXPIRED_FRACTION) : 0;
      const measuring = (performance.now() - m0) / 1000;
      const leftSeconds = (rowsLeft / 1e6) * perMillion + later.length * measuring + (sideOn ? SIDE_ROUNDS * measuring : 0) + DRAIN / 300;
      if (fillCpuSeconds !== undefined) say(`fill + VACUUM ANALYZE used ${fillCpuSeconds.toFixed(0)} s of PostgreSQL CPU (${((fillCpuSeconds / Math.max(1, fill.live + fill.expired)) * 1e6).toFixed(0)} s per million rows; on a quiet machine about half that in wall time with 2 sessions on 2 cores)`);
      say(`estimate: about ${(leftSeconds / 60).toFixed(0)} min left (fill ${perMillion.toFixed(0)} s per million rows here, ${measuring.toFixed(0)} s of measuring per size, the side-by-side rounds, the drain at 300/s)`);
    }

    let side: SideBySide | undefined;
    if (reference) {
      say(`side by side: ${SIDE_ROUNDS} rounds on the reference (${SIZES[0]}) and the growth (${SIZES.at(-1)}) database in turn`);
      side = await sideBySide(reference, growth, SIDE_ROUNDS, round, say);
      await reference.close();
      reference = undefined;
    }
    await growth.signals.stop();

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
    report(sizes, side, drain, (performance.now() - benchStart) / 1000);
  } finally {
    closeAgent();
    await reference?.close();
    await growth?.close();
    await kafka.server?.stop();
    await server.stop();
  }
}

runMain(main);
