/**
 * Signals benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL,
 * else a throwaway server started here), with 1,000 stored workflow definitions whose signal
 * triggers are active; fired triggers start real engine instances through the server's workflow
 * starter (`Engine.startWorkflowsInTx` in the matcher's transaction; no engine workers run):
 *  1. REST batch publish throughput: POST /api/v3/signals with 1,000 signals per request from
 *     several concurrent clients over real HTTP, while the matcher indexes every signal.
 *  2. The limit: the same rows written with plain batched INSERTs (no dedupe, no seq counters,
 *     no match jobs, no HTTP) into a table with the same columns and indexes, same concurrency.
 *  3. Publish → instance-created latency at a steady 500 signals/s, each signal its own POST,
 *     each firing a single-signal trigger; measured from the client's send to the instance's
 *     CREATED timeline entry, stamped clock_timestamp() as the row is inserted in the firing
 *     transaction (the instance's created_at is now(), that transaction's start).
 * Prints a table and, as its last line, one JSON object.
 *
 * Measured 2026-11-21 on 2 cores shared with other jobs (load average 14): latency p50 919 ms /
 * p99 1,610 ms, of which the publish acknowledgement took p50 660 ms / p99 1,377 ms and
 * acknowledged → instance created p50 182 ms / p99 660 ms; 5,000 of 5,000 instances started.
 */
import Fastify from 'fastify';
import { engineMigrations, getVersion, migrate, PgDb, stringifyJson as stringifyDefinition, workflowToJson, definitionHash, parseWorkflowJson, type Step } from '@baton/engine-core';
import { SignalService, signalsMigrations } from '@baton/signals';
import { signalRoutes } from '../packages/server/src/routes/signals.js';
import { createWorkflowStarter } from '../packages/server/src/wiring/starter.js';
import { createDatabase } from '../scripts/infra/postgres.js';
import { benchPostgres, signalTriggerDefinition } from './support.js';
import { closeAgent, postJson, runConcurrently } from './signal-post.js';

const TRIGGERS = 1000;
const NAMES = 100;
const BATCH = 1000;
const CLIENTS = 4;
const THROUGHPUT_BATCHES = Number(process.env.BENCH_BATCHES ?? 60);
const LATENCY_RATE = 500;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const server = await benchPostgres();
  const database = await createDatabase(server.adminUrl, 'baton_bench');
  const db = new PgDb({ connectionString: database.url, max: 16, applicationName: 'signals-bench' });
  let signals: SignalService | undefined;
  try {
    await migrate(db, [engineMigrations, signalsMigrations]);
    await db.exec('CREATE TABLE bench_raw_instances (LIKE signal_instances INCLUDING ALL)');

    // 1,000 workflows: 10 per signal name over 100 names, each trigger selecting its own shard
    // value. Stored as version 1, active, straight into the definition store's tables.
    const definitions = Array.from({ length: TRIGGERS }, (_, k) => signalTriggerDefinition(`bench-wf-${k}`, `bench/n${k % NAMES}`, `S${Math.floor(k / NAMES)}`, [noOpStep]));
    await db.query(`INSERT INTO baton_workflows (workflow_id, latest_version, active_version) SELECT w, 1, 1 FROM unnest($1::text[]) AS w`, [definitions.map((d) => d.workflowId)]);
    await db.query(
      `INSERT INTO baton_workflow_versions (workflow_id, version, definition, properties, content_hash)
       SELECT w, 1, d::jsonb, '{}'::jsonb, h FROM unnest($1::text[], $2::text[], $3::text[]) AS x(w, d, h)`,
      [definitions.map((d) => d.workflowId), definitions.map((d) => stringifyDefinition(workflowToJson(d.workflow))), definitions.map((d) => definitionHash(d.workflow))],
    );
    if ((await getVersion(db, 'bench-wf-7', 'active'))?.workflow.signalTriggers.length !== 1) throw new Error('the stored bench definitions do not read back with their signal trigger');

    const starter = createWorkflowStarter(db);
    signals = new SignalService(db, {
      starter,
      expressions: { condition: () => true, dedupKey: () => undefined },
      matcherConcurrency: 2,
    });

    for (const d of definitions) await signals.syncSubscriptions(d.workflowId, d);
    await signals.start();

    const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
    const svc = signals;
    await app.register(signalRoutes, { signals: svc });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });

    const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
    say('1,000 triggers active; phase 1: REST batch publish');
    // Phase 1: REST batch publish (no trigger fires: the shard values match none, but every
    // signal is indexed and evaluated against its name's 10 subscriptions).
    const batches = Array.from({ length: THROUGHPUT_BATCHES }, (_, b) => makeBatch(b, 'none'));
    const bodies = batches.map((rows) => JSON.stringify({ signals: rows }));
    await postJson(address, JSON.stringify({ signals: makeBatch(-1, 'none') })); // warm-up
    const t0 = performance.now();
    await runConcurrently(bodies.length, CLIENTS, async (i) => {
      const res = await postJson(address, bodies[i]!);
      if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.text}`);
    });
    const publishSeconds = (performance.now() - t0) / 1000;
    const publishRate = (THROUGHPUT_BATCHES * BATCH) / publishSeconds;
    const drainStart = performance.now();
    while ((await scalar(db, 'SELECT count(*) AS n FROM signal_match_queue')) > 0) await sleep(50);
    const matchLagSeconds = (performance.now() - drainStart) / 1000;

    say(`phase 1 done: ${Math.round(publishRate)} signals/s; phase 2: plain INSERTs`);
    // Phase 2: the same rows with plain batched INSERTs.
    const t1 = performance.now();
    await runConcurrently(batches.length, CLIENTS, async (i) => {
      const rows = batches[i]!;
      await db.query(
        `INSERT INTO bench_raw_instances (name, seq_id, instance_id, params, payload)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::jsonb[], $5::jsonb[])`,
        [rows.map((r) => r.name), rows.map((_, j) => i * BATCH + j + 1), rows.map((_, j) => `raw-${i}-${j}`), rows.map((r) => JSON.stringify(r.params)), rows.map((r) => JSON.stringify(r.payload))],
      );
    });
    const rawRate = (THROUGHPUT_BATCHES * BATCH) / ((performance.now() - t1) / 1000);

    say(`phase 2 done: ${Math.round(rawRate)} rows/s; phase 3: latency at ${LATENCY_RATE}/s`);
    // Phase 3: steady 500 signals/s, one POST each, every signal firing one trigger.
    const sent = new Map<string, number>();
    const acks: number[] = [];
    const ackedAt = new Map<string, number>();
    const total = LATENCY_RATE * LATENCY_SECONDS;
    const tickMs = 10;
    const perTick = (LATENCY_RATE * tickMs) / 1000;
    const inflight: Promise<void>[] = [];
    const tStart = Date.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < total; ) {
      const due = tStart + (i / LATENCY_RATE) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      for (let j = 0; j < perTick && i < total; j++, i++) {
        const k = i % TRIGGERS;
        const requestId = `lat-${i}`;
        const body = JSON.stringify({ name: `bench/n${k % NAMES}`, params: { shard: `S${Math.floor(k / NAMES)}`, i }, request_id: requestId });
        const sentAt = Date.now();
        sent.set(requestId, sentAt);
        inflight.push(
          postJson(address, body).then((res) => {
            if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.text}`);
            const now = Date.now();
            ackedAt.set(requestId, now);
            acks.push(now - sentAt);
          }),
        );
      }
    }
    await Promise.all(inflight);
    const offeredRate = total / ((Date.now() - tStart) / 1000);
    const cpu = process.cpuUsage(cpu0);
    const benchCpuShare = (cpu.user + cpu.system) / 1000 / (Date.now() - tStart);
    const deadline = Date.now() + 60_000;
    while ((await scalar(db, 'SELECT count(*) AS n FROM baton_workflow_instances')) < total && Date.now() < deadline) await sleep(50);
    const started = await db.query<{ rid: string; created_ms: number }>(
      `SELECT i.initiator -> 'signals' -> 0 ->> 'instance_id' AS rid, (extract(epoch FROM t.at) * 1000)::float8 AS created_ms
         FROM baton_workflow_instances i JOIN baton_instance_timeline t ON t.instance_pk = i.id AND t.to_status = 'CREATED'`,
    );
    const latencies = started.rows.map((r) => r.created_ms - sent.get(r.rid)!).sort((a, b) => a - b);
    // The part after the publish was acknowledged: matcher, trigger evaluation and engine start
    // (negative when the instance existed before the answer reached the client).
    const afterAck = started.rows.map((r) => r.created_ms - ackedAt.get(r.rid)!).sort((a, b) => a - b);
    const pctOf = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
    const pct = (p: number) => pctOf(latencies, p);
    acks.sort((a, b) => a - b);

    closeAgent();
    await app.close();
    await signals.stop();

    const result = {
      benchmark: 'signals',
      database: 'postgresql',
      active_triggers: TRIGGERS,
      rest_publish_signals_per_s: Math.round(publishRate),
      raw_insert_rows_per_s: Math.round(rawRate),
      publish_to_raw_ratio: Number((publishRate / rawRate).toFixed(3)),
      match_lag_after_publish_s: Number(matchLagSeconds.toFixed(2)),
      latency_offered_signals_per_s: Math.round(offeredRate),
      latency_instances_started: latencies.length,
      latency_expected: total,
      latency_p50_ms: Number(pct(50).toFixed(1)),
      latency_p99_ms: Number(pct(99).toFixed(1)),
      latency_max_ms: Number((latencies.at(-1) ?? NaN).toFixed(1)),
      latency_phase_process_cpu_cores: Number(benchCpuShare.toFixed(2)),
      publish_ack_p50_ms: pctOf(acks, 50),
      publish_ack_p99_ms: pctOf(acks, 99),
      ack_to_instance_p50_ms: Number(pctOf(afterAck, 50).toFixed(1)),
      ack_to_instance_p99_ms: Number(pctOf(afterAck, 99).toFixed(1)),
      targets: { rest_publish_signals_per_s: 10000, publish_to_raw_ratio: 0.15, latency_p99_ms: 100 },
      pass: {
        throughput: publishRate >= 10000,
        ratio: publishRate / rawRate >= 0.15,
        latency: pct(99) < 100 && latencies.length === total,
      },
    };
    const rows: [string, string, string][] = [
      ['REST batch publish (1,000/request, 1,000 triggers)', `${result.rest_publish_signals_per_s} signals/s`, '>= 10000'],
      ['plain batched INSERT of the same rows', `${result.raw_insert_rows_per_s} rows/s`, ''],
      ['publish / raw insert', `${result.publish_to_raw_ratio}`, '>= 0.15'],
      ['matcher lag after the publish phase', `${result.match_lag_after_publish_s} s`, ''],
      [`latency at ${LATENCY_RATE}/s offered (${result.latency_offered_signals_per_s}/s achieved)`, `p50 ${result.latency_p50_ms} ms, p99 ${result.latency_p99_ms} ms, max ${result.latency_max_ms} ms`, 'p99 < 100 ms'],
      ['  of which: publish acknowledged (HTTP 200)', `p50 ${result.publish_ack_p50_ms} ms, p99 ${result.publish_ack_p99_ms} ms`, ''],
      ['  acknowledged → instance created (matcher + start)', `p50 ${result.ack_to_instance_p50_ms} ms, p99 ${result.ack_to_instance_p99_ms} ms`, ''],
      ['  bench process CPU during the latency phase', `${result.latency_phase_process_cpu_cores} cores (client, server and matcher in one process)`, ''],
      ['instances started / expected', `${latencies.length} / ${total}`, 'equal'],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    console.log(`${'measure'.padEnd(w0)}  ${'result'.padEnd(w1)}  target`);
    for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
    console.log(JSON.stringify(result));
  } finally {
    await signals?.stop();
    await db.close();
    await database.drop();
    await server.stop();
  }
}

/** The one step of every bench workflow. */
const noOpStep: Step = (() => {
  const parsed = parseWorkflowJson(JSON.stringify({ workflow: { id: 'bench-template', steps: [{ step: { id: 'work', type: 'NoOp' } }] } }));
  if (!parsed.ok) throw new Error(`bench template: ${parsed.errors.map((e) => e.message).join('; ')}`);
  return parsed.value.workflow.steps[0]!;
})();

function makeBatch(b: number, shard: string) {
  return Array.from({ length: BATCH }, (_, j) => ({
    name: `bench/n${(b * 7 + j) % NAMES}`,
    params: { shard, batch: b, row: j, watermark: 1_700_000_000_000 + j },
    payload: { note: 'benchmark row', row: j },
  }));
}


async function scalar(db: PgDb, sql: string): Promise<number> {
  const r = await db.query<{ n: number }>(sql);
  return Number(r.rows[0]!.n);
}

await main();
