/**
 * One Baton Kafka ingestion process for the cross-process test: consumes the topic in the test's
 * consumer group and indexes into the test database until SIGTERM (or a SIGKILL from the test).
 * Prints `ready` once it consumes. Arguments: <db-url> <config JSON (KafkaSourceConfig)>.
 */
import { PgDb } from '@baton/engine-core';
import { logLevel } from 'kafkajs';
import type { KafkaSourceConfig } from '../../packages/signals/src/sources/config.js';
import { KafkaIngestor } from '../../packages/signals/src/sources/kafka/ingest.js';
import { KafkajsAdapter } from '../../packages/signals/src/sources/kafka/kafkajs-adapter.js';

const [url, configJson] = process.argv.slice(2);
if (!url || !configJson) throw new Error('usage: kafka-ingest-worker <db-url> <config-json>');
const config = JSON.parse(configJson) as KafkaSourceConfig;
const db = new PgDb({ connectionString: url, max: 4, applicationName: `kafka-ingest-${process.pid}` });
const adapter = new KafkajsAdapter({ brokers: config.brokers, clientId: `baton-test-${process.pid}`, logLevel: logLevel.NOTHING, sessionTimeoutMs: 6000 });
const ingestor = new KafkaIngestor({
  db,
  adapter,
  config,
  chunkSize: 250,
  logger: { warn: (o, m) => console.error(m, o), error: (o, m) => console.error(m, o) },
});
await ingestor.start();
console.log('ready');

process.on('SIGTERM', () => {
  void ingestor
    .stop()
    .then(() => db.close())
    .then(() => {
      console.log(`stats ${JSON.stringify(ingestor.stats())}`);
      process.exit(0);
    });
});
