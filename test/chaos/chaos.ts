import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { createDatabase, repoRoot, startKafka, startPostgres, type KafkaServer, type PostgresServer } from '../../scripts/infra/index.js';
import { call, RetryingClient } from './client.js';
import { BatonNode, sleep } from './cluster.js';
import { stepKey, type Execution } from './executions.js';
import { checkInvariants, type CronWindow, type Findings } from './invariants.js';
import { ExecutionRecorder } from './recorder.js';
import { mulberry32 as rng } from '../support/rng.js';
import { Ledger, runWorkload } from './workload.js';
import { CRON_WF, workflowDefinitions } from './workflows.js';
import { figuresOf, reportLines, type Faults, type Figures } from './report.js';
import { RETENTION_ENV, RETENTION_OFFSET_MS, runRetentionActor, type RetentionTally } from './retention-actor.js';

export type { Figures };

export interface ChaosOptions {
  /** Seconds of load (faults happen inside it). */
  loadSeconds: number;
  /** Baton processes SIGKILLed and restarted during the load. */
  kills: number;
  /** Seconds to wait for the system to settle after the load. */
  settleSeconds: number;
  seed: number;
  log: (line: string) => void;
  /**
   * Retention purging throughout: every process runs a pass every 10 s and an actor asks for one
   * every 2 s, on a clock 25 h ahead (BATON_TEST_RETENTION_CLOCK_OFFSET), so the day partition of
   * the run's signals (1 h retention; chaos/k kept forever) is dropped again and again under load.
   */
  retention?: boolean;
}


export const BOUNDED: Omit<ChaosOptions, 'seed' | 'log'> = { loadSeconds: 50, kills: 4, settleSeconds: 75 };
export const LONG: Omit<ChaosOptions, 'seed' | 'log'> = { loadSeconds: 300, kills: 16, settleSeconds: 120 };

export interface ChaosResult {
  figures: Figures;
  findings: Findings;
  ledger: Ledger;
  /** Human-readable lines: the table and the first few violations of each kind. */
  report: string[];
  ok: boolean;
}

const PROCESSES = 3;
const PARTITIONS = 3;
/** How far the scheduler may lag behind a fire time at the moment the cron is deactivated. */
const CRON_LAG_MS = 5_000;
/** The recorder holds each Http step's answer this long: wide enough for a kill to land inside. */
const HOLD_MS = { min: 50, max: 300 };

/**
 * Three Baton processes on one PostgreSQL and one Kafka under mixed load, while processes are
 * SIGKILLed and restarted, PostgreSQL is crashed once and the Kafka broker once; then the
 * invariants are checked from the database.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const began = Date.now();
  const work = await mkdtemp(path.join(os.tmpdir(), 'baton-chaos-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rm(work, { recursive: true, force: true })];
  const nodes: BatonNode[] = [];
  let pool: pg.Pool | undefined;
  try {
    o.log(`seed ${o.seed}; starting PostgreSQL and Kafka`);
    const hold = rng(o.seed ^ 0x401d);
    const recorder = await ExecutionRecorder.start({ holdMs: () => HOLD_MS.min + hold() * (HOLD_MS.max - HOLD_MS.min), callers: () => nodes });
    cleanups.push(() => recorder.stop());
    const [pgServer, kafka] = await Promise.all([startPostgres(), startKafka()]);
    cleanups.push(() => kafka.stop(), () => pgServer.stop());
    const database = await createDatabase(pgServer.url, 'baton_chaos');
    const run = `${o.seed}-${Date.now().toString(36)}`;
    // Process logs outlive the run (git-ignored), for a look at whatever went wrong.
    const logs = path.join(repoRoot, 'test-artifacts', 'chaos', run);
    await mkdir(logs, { recursive: true });
    const topic = `baton-chaos-${run}`;
    await createTopics(kafka.brokers, topic);

    const token = randomBytes(24).toString('hex');
    const configFile = path.join(work, 'sources.json');
    await writeFile(
      configFile,
      JSON.stringify({
        kafka: {
          brokers: kafka.brokers,
          clientId: 'baton-chaos',
          groupId: `baton-chaos-${run}`,
          deadLetterTopic: `${topic}-dlq`,
          subscriptions: [{ topic, format: 'json', name: { field: 'kind' }, params: { key: { field: 'key' } }, payload: 'message', dedupe: { header: 'msg-id' } }],
        },
      }),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      BATON_TOKENS: `chaos:admin:${token}`,
      BATON_CONFIG: configFile,
      BATON_TIME_SCALE: '0.1',
      BATON_PUBLISH_RATE_LIMIT: '0',
      BATON_HTTP_ALLOWED_HOSTS: recorder.host,
      // info: each request and start-up phase is in the kept logs.
      LOG_LEVEL: 'info',
    };
    if (o.retention) Object.assign(env, RETENTION_ENV);
    delete env.BATON_SOURCES_CONFIG;
    delete env.BATON_KAFKA_BROKERS;
    for (let i = 0; i < PROCESSES; i++) nodes.push(new BatonNode({ name: `baton-${i}`, env, logFile: path.join(logs, `baton-${i}.log`) }));
    // The first applies the migrations alone; the others then start side by side.
    await nodes[0]!.start();
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    o.log(`3 Baton processes up (logs in ${logs}) after ${secs(began)} s`);

    const client = new RetryingClient(nodes, token);
    const cron: CronWindow = { pushSentMs: 0, pushAckedMs: 0, expectedUntilMs: 0, deactivatedMs: 0 };
    for (const wf of workflowDefinitions(3, recorder.urlTemplate)) {
      if (wf.id === CRON_WF) cron.pushSentMs = Date.now();
      const r = await call(nodes[0]!.url, token, 'POST', '/api/v3/workflows', wf.body);
      if (r.status !== 200) throw new Error(`pushing ${wf.id} failed: ${r.status} ${JSON.stringify(r.body)}`);
      if (wf.id === CRON_WF) cron.pushAckedMs = Date.now();
    }
    // Other processes pick subscriptions and schedules up from the events table (2 s poll).
    await sleep(3000);

    const ledger = new Ledger();
    let endLoad!: () => void;
    const loadOver = new Promise<void>((resolve) => (endLoad = resolve));
    const faults: Faults = { kills: 0, killsMidExecution: 0, pg: 0, kafka: 0 };
    const loadStart = Date.now();
    o.log(`load for ${o.loadSeconds} s with ${o.kills} process kills, one PostgreSQL crash and one Kafka crash`);
    const workload = runWorkload(
      { client, brokers: kafka.brokers, topic, seed: o.seed, manualEveryMs: 120, joinEveryMs: 150, kafkaEveryMs: 500, kafkaBatch: 10, repeatShare: 0.2 },
      ledger,
      loadOver,
    );
    const tally: RetentionTally = { passes: 0, failed: 0, partitionsDropped: 0, rowsPurged: 0, rowsKept: 0, tombstones: 0 };
    const retentionActor = o.retention ? runRetentionActor(client, tally, loadOver) : Promise.resolve();
    const chaos = runFaults(o, nodes, pgServer, kafka, recorder, faults, loadStart);
    await chaos;
    const left = loadStart + o.loadSeconds * 1000 - Date.now();
    if (left > 0) await sleep(left);
    endLoad();
    await workload;
    await retentionActor;
    if (o.retention) o.log(`retention actor: ${tally.passes} passes (${tally.failed} failed) dropped ${tally.partitionsDropped} partitions, ${tally.rowsPurged} rows purged, ${tally.rowsKept} kept, ${tally.tombstones} tombstones`);
    for (const n of nodes) if (!n.alive) await bringUp(n, o.log, loadStart);
    o.log(`load over after ${secs(loadStart)} s: ${ledger.manualRequests} start requests, ${ledger.restRequests} REST publishes, ${ledger.kafkaSends} Kafka sends`);

    cron.expectedUntilMs = Date.now() - CRON_LAG_MS;
    const deact = await client.send('PUT', `/api/v3/workflows/${CRON_WF}/actions/deactivate`, undefined);
    if (!deact.ok) throw new Error(`deactivating ${CRON_WF} failed: ${deact.answer.status} ${JSON.stringify(deact.answer.body)}`);
    cron.deactivatedMs = Date.now();

    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('error', () => {});
    const settleDeadline = Date.now() + o.settleSeconds * 1000;
    let findings = await checkInvariants(pool, ledger, topic, cron, recorder.executions(), o.retention ? RETENTION_OFFSET_MS : 0);
    while (!settled(findings) && Date.now() < settleDeadline) {
      await sleep(2000);
      findings = await checkInvariants(pool, ledger, topic, cron, recorder.executions(), o.retention ? RETENTION_OFFSET_MS : 0);
    }
    await writeFile(path.join(logs, 'executions.jsonl'), recorder.executions().map((e) => JSON.stringify(e)).join('\n') + '\n');
    o.log(`settled after ${secs(loadStart)} s since the load began`);

    const unexpectedExits = nodes.flatMap((n) => n.unexpectedExits.map((e) => `${n.name} ${e}`));
    const failedStarts = nodes.flatMap((n) => n.failedStarts.map((e) => `${n.name} ${e}`));
    const figures = figuresOf(findings, ledger, faults, unexpectedExits.length, began, tally);
    const report = reportLines(findings, ledger, figures);
    if (unexpectedExits.length > 0) report.push(`Baton exits not caused by the harness: ${unexpectedExits.join('; ')} (logs in ${logs})`);
    const restartTimes = nodes.flatMap((n) => n.startTimes.slice(1));
    if (restartTimes.length > 0) report.push(`restarts until ready: ${restartTimes.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
    if (failedStarts.length > 0) report.push(`failed start-ups: ${failedStarts.join('; ')} (logs in ${logs})`);
    const ok =
      figures.duplicates === 0 &&
      figures.lost === 0 &&
      figures.non_terminal === 0 &&
      figures.overlaps === 0 &&
      figures.unrecorded === 0 &&
      figures.attempt_overlaps === 0 &&
      figures.lineage_missing === 0 &&
      figures.unexpected === 0 &&
      figures.failed === 0 &&
      figures.unexpected_exits === 0 &&
      // Retention mode proves nothing unless it purged: partitions dropped and signals of the run gone.
      (!o.retention || (figures.partitions_dropped > 0 && figures.signals_purged > 0));
    if (!ok) for (const n of nodes) report.push(`--- ${n.name} log tail ---`, await n.logTail(15));
    return { figures, findings, ledger, report, ok };
  } finally {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await pool?.end().catch(() => {});
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

function settled(f: Findings): boolean {
  return [f.manual, f.join, f.cron, f.restSignals, f.kafkaSignals].every((c) => c.missing.length === 0) && f.nonTerminal.length === 0;
}

async function createTopics(brokers: string[], topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'baton-chaos-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }, { topic: `${topic}-dlq`, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/**
 * The fault schedule: process kills spread over the load, the PostgreSQL crash after the first
 * third and the Kafka crash after the second. One fault at a time; at least one process always up.
 */
async function runFaults(
  o: ChaosOptions,
  nodes: BatonNode[],
  pgServer: PostgresServer,
  kafka: KafkaServer,
  recorder: ExecutionRecorder,
  faults: Faults,
  loadStart: number,
): Promise<void> {
  const rand = rng(o.seed ^ 0x5eed);
  const span = o.loadSeconds * 1000;
  const events: Array<{ at: number; kind: 'kill' | 'pg' | 'kafka' }> = [];
  for (let i = 0; i < o.kills; i++) events.push({ at: ((i + 0.5) / (o.kills + 1)) * span * 0.85, kind: 'kill' });
  events.push({ at: span * 0.35, kind: 'pg' }, { at: span * 0.6, kind: 'kafka' });
  events.sort((a, b) => a.at - b.at);
  const restarting = new Set<BatonNode>();
  const restarts = new Set<Promise<void>>();
  const settleRestarts = async (): Promise<void> => {
    while (restarts.size > 0) await Promise.all([...restarts]);
  };
  for (const ev of events) {
    const wait = loadStart + ev.at - Date.now();
    if (wait > 0) await sleep(wait);
    const t = secs(loadStart);
    if (ev.kind === 'kill') {
      // Never the last process standing, nor one still starting.
      const up = nodes.filter((n) => n.alive && !restarting.has(n));
      if (up.length < 2) {
        o.log(`t=${t}s kill skipped: only ${up.length} process up`);
        continue;
      }
      const { victim, midway } = await chooseVictim(up, rand, recorder);
      await victim.kill();
      faults.kills++;
      if (midway) faults.killsMidExecution++;
      o.log(`t=${t}s SIGKILL ${victim.name}${midway ? ` during ${stepKey(midway)} attempt ${midway.attemptId}` : ''}`);
      restarting.add(victim);
      const p = sleep(1000 + rand() * 2000)
        .then(() => bringUp(victim, o.log, loadStart))
        .finally(() => {
          restarting.delete(victim);
          restarts.delete(p);
        });
      restarts.add(p);
    } else if (ev.kind === 'pg') {
      // A process starting while the database is away would only fail its start-up: not the point.
      await settleRestarts();
      o.log(`t=${secs(loadStart)}s PostgreSQL crash (immediate shutdown) and restart`);
      await pgServer.shutdown('kill');
      await sleep(2000);
      await pgServer.start();
      faults.pg++;
      o.log(`t=${secs(loadStart)}s PostgreSQL back`);
    } else {
      await settleRestarts();
      o.log(`t=${secs(loadStart)}s Kafka broker SIGKILL and restart`);
      await kafka.restart('kill');
      faults.kafka++;
      o.log(`t=${secs(loadStart)}s Kafka back`);
    }
  }
  await settleRestarts();
}

/** How long a kill may wait for a process to be inside a recorded execution. */
const MIDWAY_WAIT_MS = 3_000;
/** The answer must be this far off still: a SIGKILL takes a while to close the sockets. */
const MIDWAY_LEFT_MS = 150;

/**
 * A process to kill, preferably one inside a recorded execution: its connection then drops
 * mid-step and another process must take the attempt over, which is what the overlap check is
 * about. Falls back to a random one when none is inside an execution in time.
 */
async function chooseVictim(up: BatonNode[], rand: () => number, recorder: ExecutionRecorder): Promise<{ victim: BatonNode; midway: Execution | undefined }> {
  const deadline = Date.now() + MIDWAY_WAIT_MS;
  const start = Math.floor(rand() * up.length);
  const order = up.map((_, i) => up[(start + i) % up.length]!);
  for (;;) {
    for (const n of order) {
      const midway = n.alive ? recorder.inFlight(n.name, MIDWAY_LEFT_MS) : undefined;
      if (midway) return { victim: n, midway };
    }
    if (Date.now() > deadline) return { victim: order[0]!, midway: undefined };
    await sleep(10);
  }
}

/** Starts a process again; a failed start-up is recorded on the node and tried again (two tries). */
export async function bringUp(node: BatonNode, log: (line: string) => void, since: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await node.start();
      log(`t=${secs(since)}s ${node.name} back`);
      return;
    } catch (err) {
      log(`t=${secs(since)}s ${node.name} start-up failed: ${(err as Error).message.split('\n')[0]}`);
      if (attempt >= 2) throw err;
      await sleep(1000);
    }
  }
}

function secs(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

