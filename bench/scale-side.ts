/**
 * The side-by-side comparison of bench/scale.bench.ts: the growth database at its largest size and
 * a reference database filled to the smallest size, on the same server, measured in alternating
 * rounds (ABBA order: reference, growth, growth, reference, ...) and compared by the median of each
 * figure over the rounds. Measured minutes apart, as the per-size columns are, a ratio also holds
 * whatever the machine did between them (on a shared 2-core machine, 20-60% on its own); measured
 * in turn, a slow spell falls on both sides alike.
 */
import type { PgDb } from '@baton/engine-core';
import { FILL_NAMES, storedSignals } from './scale-fill.js';
import { kafkaIngestRate, publishToInstance, queryTimes, restPublishRate, settle, waitMatched } from './scale-measure.js';
import type { Target } from './scale-target.js';
import { median } from './support.js';

export interface RoundOptions {
  batches: number;
  /** Broker list, or why Kafka is not measured. */
  kafka: string[] | string;
  kafkaMessages: number;
  latencySeconds: number;
  queryRuns: number;
}

/** One round's figures on one database (rates in signals/s, times in ms). */
export interface RoundFigures {
  restPublishPerSecond: number;
  kafkaIngestPerSecond: number | string;
  publishToInstanceP99: number;
  signalListP99: number;
  lineageP99: number;
  instanceListP99: number;
  /** CHECKPOINT + sync + autovacuum wait before the phases, ms (not measured, for the record). */
  settleMs: number;
  /**
   * Buffers per signal-list call (a name's newest page, each of the FILL_NAMES names once, EXPLAIN
   * ANALYZE BUFFERS after the timed calls): found in PostgreSQL's cache, and read from outside it
   * (the kernel's cache or the disk). For finding causes; not a target.
   */
  signalListBuffers: { hit: number; read: number };
}

export type Figure = Exclude<keyof RoundFigures, 'settleMs' | 'signalListBuffers'>;
export const FIGURES: Figure[] = ['restPublishPerSecond', 'kafkaIngestPerSecond', 'publishToInstanceP99', 'signalListP99', 'lineageP99', 'instanceListP99'];
/** The growth-ratio key of each figure (as in the JSON line's `growth`). */
export const GROWTH_KEY: Record<Figure, string> = {
  restPublishPerSecond: 'rest_publish_rate',
  kafkaIngestPerSecond: 'kafka_ingest_rate',
  publishToInstanceP99: 'publish_to_instance_p99',
  signalListP99: 'signal_list_p99',
  lineageP99: 'lineage_p99',
  instanceListP99: 'instance_list_p99',
};
const RATES = new Set<Figure>(['restPublishPerSecond', 'kafkaIngestPerSecond']);

export interface SideBySide {
  rounds: number;
  /** Live stored signals before and after the rounds (which publish into each database). */
  reference: { label: string; signals: number; signalsBefore: number; rounds: RoundFigures[]; median: Record<Figure, number | string> };
  growth: { label: string; signals: number; signalsBefore: number; rounds: RoundFigures[]; median: Record<Figure, number | string> };
  /** Growth over reference, "higher is worse" (rates inverted), of the medians. */
  ratios: Record<string, number | string>;
}

/** The median of a figure over rounds; a string (the first reason) when no round measured it. */
function medianOf(rounds: RoundFigures[], f: Figure): number | string {
  const xs = rounds.map((r) => r[f]).filter((x): x is number => typeof x === 'number');
  if (xs.length === 0) return String(rounds[0]?.[f] ?? 'n/a');
  const finite = xs.filter(Number.isFinite);
  return finite.length > 0 ? median(finite) : NaN;
}

/** Every phase once on one database, each after the database settled and the matcher caught up. */
export async function measureRound(t: Target, tag: string, o: RoundOptions, say: (m: string) => void): Promise<RoundFigures> {
  const settled = await settle(t.db);
  const rest = await restPublishRate(t.address, o.batches, tag);
  const kafka = typeof o.kafka === 'string' ? o.kafka : await kafkaIngestRate(t.db, o.kafka, o.kafkaMessages, tag).catch((err: unknown) => `n/a: ${(err as Error).message.split('\n')[0]}`);
  if (!(await waitMatched(t.db))) say(`WARNING: ${t.label}: match jobs still queued after 300 s; measuring the latency anyway`);
  const latency = await publishToInstance(t.db, t.address, 500, o.latencySeconds, tag);
  if (!(await waitMatched(t.db))) say(`WARNING: ${t.label}: match jobs still queued after 300 s`);
  const settledQ = await settle(t.db);
  const q = await queryTimes(t.db, o.queryRuns, t.service);
  const signalListBuffers = await listBuffers(t.db);
  return {
    restPublishPerSecond: rest,
    kafkaIngestPerSecond: kafka,
    publishToInstanceP99: latency.p99,
    signalListP99: q.signalList.p99,
    lineageP99: q.lineage.p99,
    instanceListP99: q.instanceList.p99,
    settleMs: settled.ms + settledQ.ms,
    signalListBuffers,
  };
}

/** Mean shared buffers hit and read per signal-list query, over one call per fill name. */
async function listBuffers(db: PgDb): Promise<{ hit: number; read: number }> {
  let hit = 0;
  let read = 0;
  for (let k = 0; k < FILL_NAMES; k++) {
    const r = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }] }>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM signal_instances WHERE name = $1 ORDER BY seq_id DESC LIMIT 51`,
      [`bench/n${k}`],
    );
    const plan = r.rows[0]!['QUERY PLAN'][0].Plan;
    hit += plan['Shared Hit Blocks'];
    read += plan['Shared Read Blocks'];
  }
  return { hit: hit / FILL_NAMES, read: read / FILL_NAMES };
}

/** `rounds` rounds on each database in ABBA order; medians and growth-over-reference ratios. */
export async function sideBySide(reference: Target, growth: Target, rounds: number, o: RoundOptions, say: (m: string) => void): Promise<SideBySide> {
  const ref: RoundFigures[] = [];
  const big: RoundFigures[] = [];
  const before = { ref: await storedSignals(reference.db), big: await storedSignals(growth.db) };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [reference, growth] : [growth, reference];
    for (const t of order) {
      const f = await measureRound(t, `side${r}${t === reference ? 'ref' : 'big'}`, o, say);
      (t === reference ? ref : big).push(f);
      say(
        `side by side round ${r + 1}/${rounds}, ${t.label}: publish ${Math.round(f.restPublishPerSecond)}/s, latency p99 ${f.publishToInstanceP99.toFixed(0)} ms, signal list p99 ${f.signalListP99.toFixed(1)} ms (buffers per call: ${f.signalListBuffers.hit.toFixed(0)} hit, ${f.signalListBuffers.read.toFixed(1)} read), lineage p99 ${f.lineageP99.toFixed(1)} ms, instance list p99 ${f.instanceListP99.toFixed(1)} ms`,
      );
    }
  }
  const medians = (rs: RoundFigures[]) => Object.fromEntries(FIGURES.map((f) => [f, medianOf(rs, f)])) as Record<Figure, number | string>;
  const mRef = medians(ref);
  const mBig = medians(big);
  const ratios: Record<string, number | string> = {};
  for (const f of FIGURES) {
    const a = mRef[f];
    const b = mBig[f];
    ratios[GROWTH_KEY[f]] = typeof a === 'number' && typeof b === 'number' ? Number((RATES.has(f) ? a / b : b / a).toFixed(3)) : 'n/a';
  }
  return {
    rounds,
    reference: { label: reference.label, signals: await storedSignals(reference.db), signalsBefore: before.ref, rounds: ref, median: mRef },
    growth: { label: growth.label, signals: await storedSignals(growth.db), signalsBefore: before.big, rounds: big, median: mBig },
    ratios,
  };
}
