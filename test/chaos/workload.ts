import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { RetryingClient } from './client.js';
import { sleep } from './cluster.js';
import { MANUAL_WF, SIGNAL_A, SIGNAL_B, SIGNAL_K } from './workflows.js';
import { mulberry32 as rng } from '../support/rng.js';


/**
 * What the workload sent, independently of what Baton stored: the expectations are computed from
 * this. "Acked" means some process answered 200 (REST) or the broker acknowledged (Kafka); a
 * request never acknowledged may or may not have taken effect, so it is allowed, not expected.
 */
export class Ledger {
  readonly manualAcked = new Set<string>();
  readonly manualUnacked = new Set<string>();
  manualRequests = 0;
  /** Answers with duplicate: true (repeats of an id, retries after a lost answer). */
  manualDuplicateAnswers = 0;
  /** REST signals by request id. */
  readonly restSignals = new Map<string, { name: string; key: string; acked: boolean }>();
  restRequests = 0;
  /** Valid Kafka messages by dedupe id (the msg-id header). */
  readonly kafkaValid = new Map<string, { name: string; key: string; acked: boolean }>();
  kafkaPoisonSent = 0;
  kafkaSends = 0;
  /** Join keys: which request id carries each side. */
  readonly joins = new Map<string, { a: string; b: string; bVia: 'rest' | 'kafka' }>();
  readonly errors: string[] = [];

  signalsSent(): number {
    return this.restSignals.size + this.kafkaValid.size;
  }
}

export interface WorkloadOptions {
  client: RetryingClient;
  brokers: string[];
  topic: string;
  seed: number;
  /** Milliseconds between manual starts, join keys and Kafka batches. */
  manualEveryMs: number;
  joinEveryMs: number;
  kafkaEveryMs: number;
  kafkaBatch: number;
  /** Share of requests sent again with the same id (0..1). */
  repeatShare: number;
}

/** Runs the mixed load until `stop` resolves; in-flight requests finish (retrying) afterwards. */
export async function runWorkload(o: WorkloadOptions, ledger: Ledger, stop: Promise<void>): Promise<void> {
  const rand = rng(o.seed);
  let stopping = false;
  void stop.then(() => (stopping = true));
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    const q = p.catch((err: unknown) => void ledger.errors.push(String(err))).finally(() => inflight.delete(q));
    inflight.add(q);
  };

  const kafka = new Kafka({ clientId: 'baton-chaos-producer', brokers: o.brokers, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 200 } });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();

  const startManual = async (id: string): Promise<void> => {
    ledger.manualRequests++;
    const r = await o.client.send('POST', `/api/v3/workflows/${MANUAL_WF}/versions/active/actions/start`, { request_id: id });
    if (r.ok) {
      ledger.manualAcked.add(id);
      ledger.manualUnacked.delete(id);
      if ((r.answer.body as { duplicate?: boolean }).duplicate) ledger.manualDuplicateAnswers++;
    } else if (!ledger.manualAcked.has(id)) {
      ledger.manualUnacked.add(id);
      ledger.errors.push(`start ${id}: ${r.answer.status} ${JSON.stringify(r.answer.body).slice(0, 200)}`);
    }
  };

  const publishRest = async (requestId: string, name: string, key: string): Promise<void> => {
    ledger.restRequests++;
    const known = ledger.restSignals.get(requestId) ?? { name, key, acked: false };
    ledger.restSignals.set(requestId, known);
    const r = await o.client.send('POST', '/api/v3/signals', { name, params: { key }, request_id: requestId, payload: { sent: Date.now() } });
    if (r.ok) known.acked = true;
    else ledger.errors.push(`publish ${requestId}: ${r.answer.status} ${JSON.stringify(r.answer.body).slice(0, 200)}`);
  };

  const produce = async (messages: Array<{ id: string; value: string }>): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      ledger.kafkaSends += messages.length;
      try {
        await produceOnce(producer, o.topic, messages);
        for (const m of messages) {
          const v = ledger.kafkaValid.get(m.id);
          if (v) v.acked = true;
        }
        return;
      } catch (err) {
        // The broker is down or electing: the same messages again, as a producer with retries would.
        if (Date.now() > deadline) {
          ledger.errors.push(`kafka send of ${messages.length} messages: ${(err as Error).message}`);
          return;
        }
        await sleep(500);
      }
    }
  };

  const pastIds: string[] = [];
  const pastKafka: Array<{ id: string; value: string }> = [];
  let manualSeq = 0;
  let joinSeq = 0;
  let kafkaSeq = 0;

  const manualLoop = async (): Promise<void> => {
    while (!stopping) {
      if (pastIds.length > 0 && rand() < o.repeatShare) track(startManual(pastIds[Math.floor(rand() * pastIds.length)]!));
      else {
        const id = `m-${o.seed}-${manualSeq++}`;
        pastIds.push(id);
        track(startManual(id));
      }
      await sleep(o.manualEveryMs);
    }
  };

  const joinLoop = async (): Promise<void> => {
    while (!stopping) {
      const key = `j${joinSeq++}`;
      const viaKafka = joinSeq % 2 === 0;
      const join = { a: `a-${o.seed}-${key}`, b: viaKafka ? `kb-${o.seed}-${key}` : `b-${o.seed}-${key}`, bVia: viaKafka ? ('kafka' as const) : ('rest' as const) };
      ledger.joins.set(key, join);
      const sendA = async (): Promise<void> => {
        await publishRest(join.a, SIGNAL_A, key);
        if (rand() < o.repeatShare) await publishRest(join.a, SIGNAL_A, key);
      };
      const sendB = async (): Promise<void> => {
        if (viaKafka) {
          const m = { id: join.b, value: JSON.stringify({ kind: SIGNAL_B, key, at: Date.now() }) };
          ledger.kafkaValid.set(m.id, { name: SIGNAL_B, key, acked: false });
          pastKafka.push(m);
          await produce([m]);
        } else {
          await publishRest(join.b, SIGNAL_B, key);
          if (rand() < o.repeatShare) await publishRest(join.b, SIGNAL_B, key);
        }
      };
      // Either side may come first.
      track(rand() < 0.5 ? sendA().then(sendB) : sendB().then(sendA));
      await sleep(o.joinEveryMs);
    }
  };

  const kafkaLoop = async (): Promise<void> => {
    while (!stopping) {
      const batch: Array<{ id: string; value: string }> = [];
      for (let i = 0; i < o.kafkaBatch; i++) {
        const r = rand();
        if (r < 0.03) {
          // Not JSON: the consumer dead-letters it; it must not become a signal.
          ledger.kafkaPoisonSent++;
          batch.push({ id: `bad-${o.seed}-${kafkaSeq++}`, value: `{"kind": "${SIGNAL_K}", "key": ` });
        } else if (r < 0.03 + o.repeatShare && pastKafka.length > 0) {
          batch.push(pastKafka[Math.floor(rand() * pastKafka.length)]!);
        } else {
          const id = `k-${o.seed}-${kafkaSeq++}`;
          const m = { id, value: JSON.stringify({ kind: SIGNAL_K, key: id, at: Date.now() }) };
          ledger.kafkaValid.set(id, { name: SIGNAL_K, key: id, acked: false });
          pastKafka.push(m);
          batch.push(m);
        }
      }
      track(produce(batch));
      await sleep(o.kafkaEveryMs);
    }
  };

  await Promise.all([manualLoop(), joinLoop(), kafkaLoop()]);
  while (inflight.size > 0) await Promise.all([...inflight]);
  await producer.disconnect().catch(() => {});
}

async function produceOnce(producer: Producer, topic: string, messages: Array<{ id: string; value: string }>): Promise<void> {
  await producer.send({ topic, acks: -1, timeout: 5000, messages: messages.map((m) => ({ key: m.id, value: m.value, headers: { 'msg-id': m.id } })) });
}
