import { tmpdir } from 'node:os';
import { getVersion, migrate, PGliteDb, Queue } from '@baton/engine-core';
import { reconcileWithEngine, Scheduler } from '@baton/scheduler';
import { KafkaLagReader, type LagAdmin } from '@baton/signals';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BatonApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { registerKafkaLagMetrics } from '../src/http/domain-metrics.js';
import { createLogger } from '../src/logger.js';
import { packageMigrations } from '../src/migrations.js';
import { createRoutePlugins } from '../src/route-plugins.js';
import { loadServiceSettings } from '../src/service-config.js';
import { activeDefinition, createServices, type BatonServices } from '../src/services.js';
import { createWorkflowStarter } from '../src/wiring/starter.js';
import { samples } from './helpers/prometheus-text.js';

const logger = createLogger('silent');

async function until(what: () => Promise<boolean>, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!(await what())) {
    if (Date.now() - t0 > ms) throw new Error(`not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const signalWorkflow = {
  properties: { owner: 'tester' },
  workflow: {
    id: 'metrics-signal-wf',
    signal_triggers: [{ definitions: { 'metrics/ready': { match_params: {}, join_keys: [] } } }],
    steps: [{ step: { id: 'only', type: 'NoOp' } }],
  },
};

const timeWorkflow = {
  properties: { owner: 'tester' },
  workflow: {
    id: 'metrics-time-wf',
    time_triggers: [{ cron: '*/2 * * * *', timezone: 'UTC', type: 'CRON' }],
    steps: [{ step: { id: 'only', type: 'NoOp' } }],
  },
};

describe('domain metrics on /metrics', () => {
  let db: PGliteDb;
  let app: BatonApp;
  let services: BatonServices;
  // The scheduler reads this clock: the test moves time instead of waiting for it.
  let clock = Date.parse('2026-03-02T10:00:30Z');
  let scheduler: Scheduler;

  beforeAll(async () => {
    db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    services = createServices({ db, logger, settings: loadServiceSettings({}, tmpdir()) });
    scheduler = new Scheduler({ db, starter: createWorkflowStarter(db), now: () => clock });
    const config = loadConfig({}, tmpdir());
    app = await buildApp({ db, config, logger, plugins: createRoutePlugins({ db, config, logger, services: { ...services, scheduler } }) });
    // The engine and matcher run for real; the timer-driven scheduler is replaced by tick() calls.
    await services.engine.start();
    await services.signals.start();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await services?.signals.stop();
    await services?.engine.stop();
    await db?.close();
  });

  it('reports signals in, duplicates, trigger matches, step launches, scheduler delay and queue depth from real work', async () => {
    for (const wf of [signalWorkflow, timeWorkflow]) {
      const r = await app.inject({ method: 'POST', url: '/api/v3/workflows', payload: wf });
      expect(r.statusCode, r.body).toBeLessThan(300);
    }
    const active = await getVersion(db, 'metrics-signal-wf', 'active');
    expect(active).toBeDefined();
    await services.signals.syncSubscriptions('metrics-signal-wf', activeDefinition(active!));

    let ended = 0;
    services.engine.events.on('instance.completed', (e: { workflowId: string }) => void (e.workflowId === 'metrics-signal-wf' && ended++));
    // Two new signals and one repeat (same request id) over REST: the trigger fires twice.
    const publish = (requestId: string) => app.inject({ method: 'POST', url: '/api/v3/signals', payload: { name: 'metrics/ready', params: { day: requestId }, request_id: requestId } });
    for (const id of ['a', 'b', 'a']) expect((await publish(id)).statusCode).toBe(200);
    await until(async () => {
      const res = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM baton_workflow_instances WHERE workflow_id = 'metrics-signal-wf' AND status = 'SUCCEEDED'`);
      // The ends are counted once their transactions committed, a moment after this connection
      // sees them: by the counter's listener, which the engine calls before this test's.
      return res.rows[0]!.n === 2 && ended === 2;
    }, 30_000);

    // The time trigger's fire at 10:02:00 is started 5 s late by the controllable clock.
    await reconcileWithEngine(scheduler, db);
    clock = Date.parse('2026-03-02T10:02:05Z');
    const tick = await scheduler.tick();
    expect(tick.started).toBe(1);

    // A job of a kind no worker here handles, due 30 s ago: it shows as queue depth and age.
    await new Queue(db).add(db, { kind: 'metrics.probe', runAt: new Date(Date.now() - 30_000) });

    const r = await app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    const s = samples(r.body);
    for (const family of [
      'baton_signals_in_total',
      'baton_signals_duplicates_total',
      'baton_trigger_matches_total',
      'baton_step_launch_seconds',
      'baton_runs_started_total',
      'baton_runs_ended_total',
      'baton_step_duration_seconds',
      'baton_scheduler_delay_seconds',
      'baton_queue_depth',
      'baton_queue_oldest_age_seconds',
      'baton_signals_unmatched',
      'baton_signals_unmatched_oldest_age_seconds',
    ]) {
      expect(r.body).toMatch(new RegExp(`^# TYPE ${family} (counter|gauge|histogram)$`, 'm'));
    }
    expect(s.get('baton_signals_in_total{source="rest"}')).toBe(2);
    expect(s.get('baton_signals_duplicates_total{source="rest"}')).toBe(1);
    expect(s.get('baton_signals_in_total{source="sns"}')).toBe(0);
    expect(s.get('baton_trigger_matches_total{outcome="STARTED"}')).toBe(2);
    expect(s.get('baton_trigger_start_failures_total')).toBe(0);
    // Both runs' steps were launched by this process's engine after becoming ready here.
    expect(s.get('baton_step_launch_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(s.get('baton_step_launch_seconds_sum')).toBeGreaterThan(0);
    // The two signal-started runs began and succeeded in this process, each through its one NoOp step.
    expect(s.get('baton_runs_started_total{workflow="metrics-signal-wf"}')).toBe(2);
    expect(s.get('baton_runs_ended_total{workflow="metrics-signal-wf",status="SUCCEEDED"}')).toBe(2);
    expect(s.get('baton_step_duration_seconds_count{step_type="NoOp",status="SUCCEEDED"}')).toBeGreaterThanOrEqual(2);
    expect(s.get('baton_step_duration_seconds_bucket{le="+Inf",step_type="NoOp",status="SUCCEEDED"}')).toBe(s.get('baton_step_duration_seconds_count{step_type="NoOp",status="SUCCEEDED"}'));
    expect(s.get('baton_scheduler_delay_seconds_count')).toBe(1);
    expect(s.get('baton_scheduler_delay_seconds_sum')).toBeCloseTo(5, 3);
    expect(s.get('baton_scheduler_delay_seconds_bucket{le="2.5"}')).toBe(0);
    expect(s.get('baton_scheduler_delay_seconds_bucket{le="5"}')).toBe(1);
    // Both signals were matched (their runs succeeded): nothing waits for the matcher.
    expect(s.get('baton_signals_unmatched')).toBe(0);
    expect(s.get('baton_signals_unmatched_oldest_age_seconds')).toBe(0);
    expect(s.get('baton_queue_depth{kind="metrics.probe"}')).toBe(1);
    expect(s.get('baton_queue_oldest_age_seconds{kind="metrics.probe"}')).toBeGreaterThanOrEqual(29);

    // Once the job is gone its kind stays, at zero, instead of vanishing.
    await db.query(`DELETE FROM baton_jobs WHERE kind = 'metrics.probe'`);
    await new Promise((r) => setTimeout(r, 1100));
    const after = samples((await app.inject({ url: '/metrics' })).body);
    expect(after.get('baton_queue_depth{kind="metrics.probe"}')).toBe(0);
    expect(after.get('baton_queue_oldest_age_seconds{kind="metrics.probe"}')).toBe(0);
  }, 90_000);
});

/** Offsets as a broker reports them, for a group that committed partition 0 and 1 but not 2. */
class OffsetsAdmin implements LagAdmin {
  fetches = 0;
  connects = 0;
  async connect(): Promise<void> {
    this.connects++;
  }
  async disconnect(): Promise<void> {}
  async fetchOffsets(options: { groupId: string; topics: string[] }) {
    this.fetches++;
    expect(options).toEqual({ groupId: 'baton-signals', topics: ['orders'] });
    return [{ topic: 'orders', partitions: [{ partition: 0, offset: '40' }, { partition: 1, offset: '7' }, { partition: 2, offset: '-1' }] }];
  }
  async fetchTopicOffsets(topic: string) {
    expect(topic).toBe('orders');
    return [
      { partition: 0, high: '100', low: '0' },
      { partition: 1, high: '7', low: '0' },
      { partition: 2, high: '25', low: '10' },
    ];
  }
}

describe('Kafka consumer lag', () => {
  it('is the log end offset minus the committed offset (earliest kept offset when none), read once per scrape', async () => {
    const admin = new OffsetsAdmin();
    const registry = new Registry();
    const lag = new KafkaLagReader({ groupId: 'baton-signals', topics: ['orders'], admin });
    registerKafkaLagMetrics(registry, lag);
    const text = await registry.metrics();
    const s = samples(text);
    expect(text).toMatch(/^# TYPE baton_kafka_consumer_lag gauge$/m);
    expect(s.get('baton_kafka_consumer_lag{topic="orders",partition="0"}')).toBe(60);
    expect(s.get('baton_kafka_consumer_lag{topic="orders",partition="1"}')).toBe(0);
    expect(s.get('baton_kafka_consumer_lag{topic="orders",partition="2"}')).toBe(15);
    await lag.read();
    expect(admin.fetches).toBe(1);
    expect(admin.connects).toBe(1);
  });

  it('asks the brokers again after a failed read', async () => {
    const admin = new OffsetsAdmin();
    let fail = true;
    const flaky: LagAdmin = {
      connect: () => admin.connect(),
      disconnect: () => admin.disconnect(),
      fetchOffsets: (o) => (fail ? Promise.reject(new Error('broker down')) : admin.fetchOffsets(o)),
      fetchTopicOffsets: (t) => admin.fetchTopicOffsets(t),
    };
    const lag = new KafkaLagReader({ groupId: 'baton-signals', topics: ['orders'], admin: flaky });
    await expect(lag.read()).rejects.toThrow('broker down');
    fail = false;
    expect((await lag.read()).map((p) => p.lag)).toEqual([60, 0, 15]);
  });
});
