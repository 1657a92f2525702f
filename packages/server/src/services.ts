import {
  Engine,
  WorkflowLifecycle,
  getVersion,
  listActiveWorkflows,
  registerBuiltinRuntimes,
  storeDefinitions,
  type Db,
  type StoredVersion,
} from '@baton/engine-core';
import { Scheduler, reconcileWithEngine, scheduleOf } from '@baton/scheduler';
import { RetentionLoop, SignalService, type ActiveDefinition } from '@baton/signals';
import { SourcesRuntime } from './wiring/signals-sources.js';
import type { Logger } from './logger.js';
import type { ServiceSettings } from './service-config.js';
import { createWorkflowStarter } from './wiring/starter.js';
import { signalTriggerExpressions } from './wiring/trigger-expressions.js';
import { useSelEvaluator } from './wiring/sel.js';
import { wireSignalsIntoEngine } from './wiring/engine-signals.js';
import { publishedSignalsOutbound, wireOutboundEvents } from './wiring/outbound.js';
import { followWorkflowEvents } from './wiring/workflow-events.js';

/** Every domain service of one Baton process, built once by the composition root. */
export interface BatonServices {
  readonly db: Db;
  readonly engine: Engine;
  readonly signals: SignalService;
  readonly scheduler: Scheduler;
  readonly sources: SourcesRuntime;
  /** Creates signal partitions ahead and drops expired ones (BATON_SIGNAL_RETENTION*). */
  readonly retention: RetentionLoop;
  /** Where the versions store tells this process's subscribers about pushes and (de)activations. */
  readonly lifecycle: WorkflowLifecycle;
  readonly settings: ServiceSettings;
  /** Starts the engine workers, the signal matcher, the scheduler, Kafka consumers and outbound publishers. */
  start(): Promise<void>;
  /** Stops them in reverse order; in-flight work finishes or is left for another process to resume. */
  stop(): Promise<void>;
}

export interface ServicesDeps {
  db: Db;
  logger: Logger;
  settings: ServiceSettings;
  /** How often this process reads workflow events other processes wrote (default 2 s). */
  eventPollMs?: number;
}

/**
 * Builds the engine, signals, scheduler and sources from the settings and plugs them together
 * through the engine's ports: signal and time triggers start runs through `startWorkflow` in the
 * matcher's or scheduler's transaction; lifecycle events keep trigger subscriptions and schedules
 * in step with the active versions; signal dependencies are a step gate; signal outputs and
 * outbound events are step completion hooks; `params.getFromSignal*` are SEL host extensions.
 */
export function createServices(deps: ServicesDeps): BatonServices {
  const { db, logger, settings } = deps;
  const log = logger.child({ component: 'services' });
  const lifecycle = new WorkflowLifecycle((err, event) => log.error({ err, workflowId: event.workflowId, kind: event.kind }, 'workflow lifecycle listener failed'));
  const engine = new Engine({
    db,
    definitions: storeDefinitions(db),
    timeScale: settings.timeScale,
    paramValidators: settings.paramValidators,
    concurrency: settings.engineConcurrency,
    stepLogs: settings.stepLogs,
    selTimeoutMs: settings.selTimeoutMs,
    selWorkers: settings.selWorkers,
    selQueueLimit: settings.selQueueLimit,
    onError: (err, job) =>
      job.kind === 'step.logs'
        ? log.error({ err }, 'storing a step attempt\'s logs failed; the step goes on and the lost output shows as dropped')
        : log.error({ err, job: job.kind }, 'engine job failed; it will be retried'),
  });
  useSelEvaluator(engine.evaluateSel);
  registerBuiltinRuntimes(engine, { http: { allowedHosts: settings.httpAllowedHosts }, ...(settings.shellSteps ? { shell: {} } : {}) });

  const starter = createWorkflowStarter(db);
  const wiring = wireSignalsIntoEngine(engine, db, logger.child({ component: 'signal-gates' }), settings.sources.sinks);
  const onPublished = publishedSignalsOutbound(settings.sources.sinks);
  const signals = new SignalService(db, {
    starter,
    onPublished,
    expressions: signalTriggerExpressions,
    gates: wiring.gateListener,
    logger: logger.child({ component: 'signals' }),
    matchLagWhileIngestingMs: settings.matchLagWhileIngestingMs,
  });
  wiring.attach(signals);
  const scheduler = new Scheduler({
    db,
    starter,
    compile: { minIntervalMs: settings.minTriggerIntervalMs },
    onError: (err, context) => log.error({ err, context }, 'scheduler error'),
  });
  const sources = new SourcesRuntime({ db, signals, config: settings.sources, onPublished, ingestPressure: signals.ingestPressure, logger: logger.child({ component: 'sources' }) });
  wireOutboundEvents(engine, settings.sources.sinks);
  const retention = new RetentionLoop(db, {
    policy: settings.retention.signals,
    runRetentionSeconds: settings.retention.runsSeconds,
    intervalMs: settings.retention.intervalMs,
    ...(settings.retention.clockOffsetMs > 0 ? { now: () => new Date(Date.now() + settings.retention.clockOffsetMs) } : {}),
    logger: logger.child({ component: 'retention' }),
  });
  if (settings.retention.clockOffsetMs > 0) {
    log.warn({ offsetMs: settings.retention.clockOffsetMs }, 'BATON_TEST_RETENTION_CLOCK_OFFSET is set: retention passes run ahead of the clock and purge signals early (test only)');
  }

  const stops: (() => void | Promise<void>)[] = [];
  let startup: Promise<void> | undefined;
  let stopping = false;

  const pollMs = deps.eventPollMs ?? 2000;
  async function syncSchedule(workflowId: string): Promise<void> {
    await scheduler.syncWorkflow(workflowId, scheduleOf(await getVersion(db, workflowId, 'active')));
  }

  async function syncSignals(workflowId: string): Promise<void> {
    const active = await getVersion(db, workflowId, 'active');
    await signals.syncSubscriptions(workflowId, active ? activeDefinition(active) : null);
  }

  /** Starts each service in turn; a stop() requested meanwhile ends it after the current step. */
  async function startAll(): Promise<void> {
    await engine.start();
    stops.push(() => engine.stop());
    if (stopping) return;

    // The followers' stops wait for a poll in flight: the database is closed right after stop().
    stops.push(await followWorkflowEvents(db, lifecycle, syncSignals, { pollMs, onError: (err) => log.error({ err }, 'following workflow events for signal triggers failed') }));
    // The retention policy and this week's partitions are in place before signals are stored.
    await retention.start();
    stops.push(() => retention.stop());
    await signals.rebuildSubscriptions((await listActiveWorkflows(db)).map(activeDefinition));
    await signals.start();
    stops.push(() => signals.stop());
    if (stopping) return;

    await reconcileWithEngine(scheduler, db);
    stops.push(await followWorkflowEvents(db, lifecycle, syncSchedule, { pollMs, onError: (err) => log.error({ err }, 'following workflow events for time triggers failed') }));
    scheduler.start();
    stops.push(() => scheduler.stop());
    if (stopping) return;

    await sources.start();
    stops.push(() => sources.stop());
    log.info({ kafka: sources.kafka?.tuning ?? false, sinks: settings.sources.sinks.map((s) => s.name), httpAllowedHosts: settings.httpAllowedHosts.length, shellSteps: settings.shellSteps }, 'services started');
  }

  return {
    db,
    engine,
    signals,
    scheduler,
    sources,
    retention,
    lifecycle,
    settings,
    start() {
      startup ??= startAll();
      return startup;
    },
    async stop() {
      stopping = true;
      await startup?.catch(() => {});
      // Sources first (no new signals), then the producers of work, the engine last.
      while (stops.length > 0) {
        const stop = stops.pop()!;
        try {
          await stop();
        } catch (err) {
          log.error({ err }, 'stopping a service failed');
        }
      }
      startup = undefined;
      stopping = false;
    },
  };
}

export function activeDefinition(v: StoredVersion): ActiveDefinition {
  return { workflowId: v.workflowId, version: v.version, workflow: v.workflow, properties: v.properties };
}
