import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { cachePath, makeRunDir } from './paths.js';
import { freePort, onPath, run, ServerProcess } from './proc.js';
import { manageProcess, type ManagedServer } from './server.js';

export const KAFKA_VERSION = '3.9.2';

// kafka_2.13 declares the broker's own dependencies; the logging backend is left to the
// distribution, so name the reload4j binding Kafka 3.9 ships with.
const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.baton.test</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
  </dependencies>
</project>
`;

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.controller=WARN
`;

const POM_HASH = createHash('sha256').update(POM).digest('hex').slice(0, 16);

export interface KafkaJars {
  /** Folder with every jar the broker needs (classpath `<libs>/*`). */
  libs: string;
  /** True when this call resolved them from Maven (a cold cache). */
  downloaded: boolean;
}

/**
 * Resolves Kafka and its runtime dependencies from Maven Central into `.cache/kafka/libs` with the
 * machine's Maven. A stamp records which pom produced the folder, so later runs download nothing.
 */
export async function ensureKafkaJars(log: (msg: string) => void = () => {}): Promise<KafkaJars> {
  const base = cachePath('kafka');
  const libs = path.join(base, 'libs');
  const stamp = path.join(libs, '.complete');
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === POM_HASH) return { libs, downloaded: false };
  if (!(await onPath('mvn'))) throw new Error('Maven (mvn) is needed to fetch the Kafka broker jars: install it (apt-get install maven)');
  if (!(await onPath('java'))) throw new Error('Java 17+ is needed to run the Kafka broker: install it (apt-get install default-jre-headless)');
  await mkdir(base, { recursive: true });
  await rm(libs, { recursive: true, force: true });
  const pom = path.join(base, 'pom.xml');
  await writeFile(pom, POM);
  log(`resolving org.apache.kafka:kafka_2.13:${KAFKA_VERSION} with Maven`);
  await run('mvn', [
    '-B', '-q', '-f', pom,
    `-Dmaven.repo.local=${cachePath('m2')}`,
    'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
    `-DoutputDirectory=${libs}`,
    '-DincludeScope=runtime',
  ]);
  await writeFile(stamp, POM_HASH);
  return { libs, downloaded: true };
}

export interface KafkaServer extends ManagedServer {
  /** `host:port` bootstrap list for clients. */
  readonly brokers: string[];
  readonly port: number;
}

export interface StartKafkaOptions {
  port?: number;
  /** JVM max heap, e.g. `512m`. */
  heap?: string;
  log?: (msg: string) => void;
}

async function brokerAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({ clientId: 'baton-infra-probe', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Starts a single-node KRaft broker (broker and controller in one JVM) on 127.0.0.1. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaServer> {
  const log = opts.log ?? (() => {});
  const { libs } = await ensureKafkaJars(log);
  if (!(await onPath('java'))) throw new Error('Java 17+ is needed to run the Kafka broker: install it (apt-get install default-jre-headless)');
  const runDir = await makeRunDir('kafka');
  const port = opts.port ?? (await freePort());
  const controllerPort = await freePort();
  const brokers = [`127.0.0.1:${port}`];
  const props = path.join(runDir, 'server.properties');
  await writeFile(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(runDir, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=true',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=4',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      'background.threads=2',
      'log.cleaner.enable=false',
      // After a crash the restarted broker may only re-register once its old session expires:
      // a short session keeps restarts in chaos tests quick.
      'broker.session.timeout.ms=3000',
      'broker.heartbeat.interval.ms=500',
      '',
    ].join('\n'),
  );
  const log4j = path.join(runDir, 'log4j.properties');
  await writeFile(log4j, LOG4J);
  const heap = opts.heap ?? '384m';
  const jvm = [
    `-Xmx${heap}`,
    '-Xms64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Xshare:auto',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`,
    `-Dkafka.logs.dir=${runDir}`,
    '-cp', `${libs}/*`,
  ];
  const logFile = path.join(runDir, 'kafka.log');
  // A KRaft cluster id is 16 random bytes, base64url without padding. One in 64 starts with '-',
  // which the tool's argument parser would take for an option: pass it as `--cluster-id=<id>`.
  const clusterId = randomBytes(16).toString('base64url');
  await run('java', [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props, '--ignore-formatted'], { timeoutMs: 120_000 });

  const server = await manageProcess({
    name: 'Kafka',
    async launch() {
      const proc = ServerProcess.start({ name: 'Kafka', cmd: 'java', args: [...jvm, 'kafka.Kafka', props], logFile });
      await proc.waitUntilReady(() => brokerAnswers(brokers), 120_000);
      return proc;
    },
    cleanSignal: 'SIGTERM',
    killSignal: 'SIGKILL',
    stopGraceMs: 30_000,
    dataDir: runDir,
  });
  return Object.assign(server, { brokers, port });
}
