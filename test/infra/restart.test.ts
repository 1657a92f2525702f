import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import pg from 'pg';
import { existsSync } from 'node:fs';
import { startKafka, type KafkaServer } from '../../scripts/infra/kafka.js';
import { startPostgres, type PostgresServer } from '../../scripts/infra/postgres.js';
import { requireOwnServers } from '../setup/infra.js';

/**
 * Chaos tests and benchmarks take components away and bring them back through scripts/infra:
 * a restart keeps the port and the data, a stopped server is gone with its folder.
 */
async function sql<R>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

describe('PostgreSQL started by scripts/infra', () => {
  let server: PostgresServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps its data across a clean restart, a crash and a shutdown, and removes it on stop', async () => {
    requireOwnServers('postgres');
    server = await startPostgres();
    await sql(server.url, 'CREATE TABLE survives (n INTEGER); INSERT INTO survives VALUES (1)');

    await server.restart('clean');
    await sql(server.url, 'INSERT INTO survives VALUES (2)');
    await server.restart('kill');
    expect(await sql(server.url, 'SELECT n FROM survives ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);

    await server.shutdown();
    expect(server.running).toBe(false);
    await expect(sql(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED|connect/);
    await server.start();
    expect(server.running).toBe(true);
    expect(await sql(server.url, 'SELECT count(*)::int AS c FROM survives')).toEqual([{ c: 2 }]);

    const dataDir = server.dataDir;
    await server.stop();
    expect(existsSync(dataDir)).toBe(false);
    await expect(server.start()).rejects.toThrow(/stopped for good/);
  });
});

describe('Kafka started by scripts/infra', () => {
  let server: KafkaServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps topics and messages across a clean restart and a crash', async () => {
    requireOwnServers('kafka');
    server = await startKafka();
    const kafka = new Kafka({ clientId: 'baton-restart-test', brokers: server.brokers, logLevel: logLevel.NOTHING });
    const send = async (value: string): Promise<void> => {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic: 'survives', acks: -1, messages: [{ value }] });
      await producer.disconnect();
    };
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'survives', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    await send('before-restart');
    await server.restart('clean');
    await send('after-restart');
    // Flushed to the page cache on every append, so a SIGKILLed broker keeps what it acknowledged.
    await server.restart('kill');

    const offsets = kafka.admin();
    await offsets.connect();
    const ends = await offsets.fetchTopicOffsets('survives');
    await offsets.disconnect();
    expect(ends.map((p) => p.high)).toEqual(['2']);
  });
});
