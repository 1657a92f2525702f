import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { migrate, PGliteDb } from '@baton/engine-core';
import { registerSchedulerMetrics, Scheduler } from '@baton/scheduler';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BatonApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { metricsPlugin, perScrape } from '../src/http/metrics.js';
import { registerSourcesMetrics, type SourcesMetricsSnapshot } from '../src/http/sources-metrics.js';
import { serviceMetrics } from '../src/http/service-metrics.js';
import { createLogger } from '../src/logger.js';
import { loadServiceSettings } from '../src/service-config.js';
import { createServices } from '../src/services.js';
import { packageMigrations } from '../src/migrations.js';
import { samples } from './helpers/prometheus-text.js';

const logger = createLogger('silent');

describe('GET /metrics', () => {
  let db: PGliteDb;
  let app: BatonApp;
  let snapshot: SourcesMetricsSnapshot;
  let sourceCalls = 0;

  beforeAll(async () => {
    db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    const scheduler = new Scheduler({ db, starter: { startWorkflow: () => Promise.reject(new Error('no schedules in this test')) } });
    snapshot = {
      kafka: { indexed: 10, duplicates: 2, deadLettered: 1, commits: 4 },
      sns: { indexed: 3, duplicates: 1, rejected: 2, confirmed: 1 },
      outbound: { audit: { delivered: 7, failed: 1 } },
      backlog: [{ sink: 'audit', count: 5, oldestAgeMs: 1500 }],
    };
    const sources = {
      metrics: async () => {
        sourceCalls++;
        return structuredClone(snapshot);
      },
    };
    app = await buildApp({
      db,
      config: loadConfig({ BATON_TOKENS: 'prom:reader:prometheus-scrape-token' }, tmpdir()),
      logger,
      plugins: [metricsPlugin('scheduler', (r) => registerSchedulerMetrics(r, scheduler)), metricsPlugin('sources', (r) => registerSourcesMetrics(r, sources))],
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const scrape = async () => {
    const r = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer prometheus-scrape-token' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return r.body;
  };

  it('exposes process, HTTP, scheduler and sources metric families', async () => {
    await app.inject({ url: '/healthz' });
    await app.inject({ url: '/healthz' });
    await app.inject({ url: '/no/such/path', headers: { authorization: 'Bearer prometheus-scrape-token' } });
    const text = await scrape();
    for (const family of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'baton_http_request_duration_seconds',
      'baton_scheduler_fires_started_total',
      'baton_scheduler_fires_skipped_total',
      'baton_signals_ingested_total',
      'baton_signals_duplicates_total',
      'baton_kafka_dead_lettered_total',
      'baton_sns_rejected_total',
      'baton_outbound_delivered_total',
      'baton_outbound_failed_total',
      'baton_outbound_backlog',
      'baton_outbound_oldest_age_seconds',
    ]) {
      expect(text, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    }
    const s = samples(text);
    // By route pattern and status, never by raw URL.
    expect(s.get('baton_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}')).toBe(2);
    expect(s.get('baton_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(s.get('baton_signals_ingested_total{source="kafka"}')).toBe(10);
    expect(s.get('baton_signals_ingested_total{source="sns"}')).toBe(3);
    expect(s.get('baton_signals_duplicates_total{source="kafka"}')).toBe(2);
    expect(s.get('baton_kafka_dead_lettered_total')).toBe(1);
    expect(s.get('baton_outbound_delivered_total{sink="audit"}')).toBe(7);
    expect(s.get('baton_outbound_backlog{sink="audit"}')).toBe(5);
    expect(s.get('baton_outbound_oldest_age_seconds{sink="audit"}')).toBe(1.5);
    expect(s.get('baton_scheduler_fires_started_total')).toBe(0);
  });

  it('reads the sources once per scrape and follows their totals', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const before = sourceCalls;
    snapshot.kafka!.indexed = 25;
    snapshot.backlog = [];
    const s = samples(await scrape());
    expect(sourceCalls - before).toBe(1);
    expect(s.get('baton_signals_ingested_total{source="kafka"}')).toBe(25);
    expect(s.has('baton_outbound_backlog{sink="audit"}')).toBe(false);
    // The scrape itself was timed under its route.
    expect(s.get('baton_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"}')).toBeGreaterThanOrEqual(1);
  });

  it('needs a reader token', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
  });
});

describe('perScrape', () => {
  it('shares one read between calls close together and retries after a failure', async () => {
    let calls = 0;
    let fail = true;
    const read = perScrape(async () => {
      calls++;
      if (fail) throw new Error('database unavailable');
      return calls;
    }, 60_000);
    await expect(read()).rejects.toThrow('database unavailable');
    fail = false;
    expect(await read()).toBe(2);
    expect(await read()).toBe(2);
    expect(calls).toBe(2);
  });

  it('is separate per registry, so two apps in one process do not collide', () => {
    const a = new Registry();
    const b = new Registry();
    const source = { metrics: async () => ({ sns: { indexed: 0, duplicates: 0, rejected: 0, confirmed: 0 }, outbound: {}, backlog: [] }) };
    registerSourcesMetrics(a, source);
    expect(() => registerSourcesMetrics(b, source)).not.toThrow();
  });
});

describe('request logs', () => {
  it('carry the request id, the caller\'s when it is plain, and answer it in X-Request-Id', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const db = await PGliteDb.open({});
    const app = await buildApp({ db, config: loadConfig({ REQUEST_LOG_LEVEL: 'info' }, tmpdir()), logger: createLogger('info', sink) });
    try {
      const given = await app.inject({ url: '/metrics', headers: { 'x-request-id': 'trace-42' } });
      expect(given.headers['x-request-id']).toBe('trace-42');
      const fresh = await app.inject({ url: '/metrics', headers: { 'x-request-id': 'not plain <script>' } });
      const freshId = String(fresh.headers['x-request-id']);
      expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
      // /metrics logs below info; other routes log each request at info.
      await app.inject({ url: '/no/such', headers: { 'x-request-id': 'trace-43' } });
      expect(lines.filter((l) => l.reqId === 'trace-43').map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
      expect(lines.some((l) => l.reqId === 'trace-42')).toBe(false);
    } finally {
      await app.close();
      await db.close();
    }
  });

  it('are at debug level unless REQUEST_LOG_LEVEL says otherwise', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const db = await PGliteDb.open({});
    const config = loadConfig({}, tmpdir());
    const atInfo = await buildApp({ db, config, logger: createLogger('info', sink) });
    const atDebug = await buildApp({ db, config, logger: createLogger('debug', sink) });
    try {
      await atInfo.inject({ url: '/no/such', headers: { 'x-request-id': 'quiet-1' } });
      await atDebug.inject({ url: '/no/such', headers: { 'x-request-id': 'loud-1' } });
      expect(lines.filter((l) => l.reqId === 'quiet-1')).toEqual([]);
      expect(lines.filter((l) => l.reqId === 'loud-1').map((l) => [l.level, l.msg])).toEqual([
        [20, 'incoming request'],
        [20, 'request completed'],
      ]);
    } finally {
      await atInfo.close();
      await atDebug.close();
      await db.close();
    }
  });
});

describe('serviceMetrics', () => {
  it("reads the production services' scheduler and sources (backlog from the database) at scrape time", async () => {
    const db = await PGliteDb.open({});
    await migrate(db, [...packageMigrations]);
    const services = createServices({ db, logger, settings: loadServiceSettings({}, tmpdir()) });
    const app = await buildApp({ db, config: loadConfig({}, tmpdir()), logger, plugins: serviceMetrics(services) });
    try {
      const r = await app.inject({ url: '/metrics' });
      expect(r.statusCode).toBe(200);
      const s = samples(r.body);
      expect(s.get('baton_scheduler_fires_started_total')).toBe(0);
      expect(s.get('baton_signals_ingested_total{source="sns"}')).toBe(0);
      // No Kafka configured: no kafka series rather than a misleading zero.
      expect(s.has('baton_signals_ingested_total{source="kafka"}')).toBe(false);
      expect(r.body).toMatch(/^# TYPE baton_outbound_backlog gauge$/m);
    } finally {
      await app.close();
      await db.close();
    }
  }, 60_000);
});
