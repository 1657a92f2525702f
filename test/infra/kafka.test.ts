import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs';
import { requireKafka } from '../setup/infra.js';

/**
 * The broker the suite runs against honours consumer-group offsets: a consumer that commits,
 * stops and comes back resumes exactly after its commit.
 */
describe('Kafka round trip', () => {
  let kafka: Kafka;
  const topic = `baton-roundtrip-${randomUUID()}`;
  const groupId = `baton-roundtrip-group-${randomUUID()}`;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = new Kafka({ clientId: 'baton-infra-test', brokers: requireKafka().brokers, logLevel: logLevel.WARN });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
  });
  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
  });

  async function produce(values: string[]): Promise<void> {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Keys spread the messages over both partitions; each key keeps its order within one.
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: `k${Number(value.slice(1)) % 5}`, value })) });
    await producer.disconnect();
  }

  /**
   * Consumes until `take` messages were handled, committing each handled offset by hand, and
   * ignores whatever the fetch brought beyond that (it must come again after the restart).
   */
  async function consume(take: number): Promise<string[]> {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${seen.length} of ${take} messages: ${seen.join(',')}`)), 45_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (seen.length >= take) return;
            seen.push(message.value!.toString());
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            if (seen.length === take) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    return seen;
  }

  it('resumes after the committed offset: nothing lost, nothing read twice', async () => {
    const first = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await produce(first);

    const before = await consume(8);
    expect(new Set(before).size).toBe(8);

    const later = Array.from({ length: 10 }, (_, i) => `m${20 + i}`);
    await produce(later);

    const after = await consume(22);
    expect(after.filter((v) => before.includes(v))).toEqual([]);
    expect([...before, ...after].sort()).toEqual([...first, ...later].sort());

    // Order holds per key (each key lives in one partition).
    const all = [...before, ...after];
    for (let k = 0; k < 5; k++) {
      const ofKey = all.filter((v) => Number(v.slice(1)) % 5 === k).map((v) => Number(v.slice(1)));
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }

    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const committedTotal = committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    const endTotal = ends.reduce((n, p) => n + Number(p.offset), 0);
    expect(committedTotal).toBe(30);
    expect(endTotal).toBe(30);
  });
});
