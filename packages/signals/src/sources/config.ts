import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { FieldError } from '../errors.js';
import type { CloudEventMapping } from './cloudevents.js';
import type { ParamSource, PayloadSource, SignalMapping, ValueSource } from './mapping.js';
import { DEFAULT_SNS_CERT_HOSTS, KAFKA_TUNING, OUTBOX_DEFAULTS, SourcesConfigError, type KafkaDedupe, type KafkaSourceConfig, type KafkaSubscriptionConfig, type OutboundEventKind, type OutboxConfig, type SinkConfig, type SnsSourceConfig, type SnsSubscriptionConfig, type SourcesConfig } from './config-model.js';

export * from './config-model.js';

/** Environment variables read by loadSourcesConfig. */
export const SOURCES_ENV = {
  file: 'BATON_SOURCES_CONFIG',
  kafkaBrokers: 'BATON_KAFKA_BROKERS',
  snsVerify: 'BATON_SNS_VERIFY_SIGNATURES',
} as const;

/** The settings above with one-line descriptions, for `baton serve --help`. */
export const SOURCES_SETTINGS: readonly { name: string; description: string }[] = [
  { name: SOURCES_ENV.file, description: 'JSON or YAML file configuring Kafka/SNS/CloudEvents signal sources and outbound sinks' },
  { name: SOURCES_ENV.kafkaBrokers, description: 'Kafka bootstrap brokers host:port,... (replaces kafka.brokers and the default of Kafka sinks)' },
  { name: SOURCES_ENV.snsVerify, description: 'false turns SNS signature verification off (emulators only; default true)' },
];

/**
 * Reads and validates the sources and sinks configuration: the JSON or YAML file named by
 * BATON_SOURCES_CONFIG (relative to `cwd`), then BATON_KAFKA_BROKERS (comma-separated; replaces
 * `kafka.brokers` and the brokers of Kafka sinks that name none) and BATON_SNS_VERIFY_SIGNATURES
 * (`false` turns verification off). Without a file the result has no sources and no sinks.
 * Throws SourcesConfigError listing every problem.
 */
export function loadSourcesConfig(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): SourcesConfig {
  const fileSetting = env[SOURCES_ENV.file];
  let raw: unknown = {};
  let file: string | undefined;
  if (fileSetting) {
    file = path.resolve(cwd, fileSetting);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SourcesConfigError([{ field: SOURCES_ENV.file, message: `cannot read ${file}: ${(err as Error).message}` }], file);
    }
    try {
      raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      throw new SourcesConfigError([{ field: '(file)', message: `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}` }], file);
    }
    raw ??= {};
  }
  const errors: FieldError[] = [];
  const brokersEnv = env[SOURCES_ENV.kafkaBrokers];
  const envBrokers = brokersEnv ? brokersEnv.split(',').map((b) => b.trim()).filter(Boolean) : undefined;
  let verifyOverride: boolean | undefined;
  const verifyEnv = env[SOURCES_ENV.snsVerify];
  if (verifyEnv !== undefined && verifyEnv !== '') {
    if (verifyEnv === 'true') verifyOverride = true;
    else if (verifyEnv === 'false') verifyOverride = false;
    else errors.push({ field: SOURCES_ENV.snsVerify, message: `must be true or false (got "${verifyEnv}")` });
  }
  const config = validateSourcesConfig(raw, errors, { envBrokers, verifyOverride });
  if (errors.length > 0) throw new SourcesConfigError(errors, file);
  if (file) config.file = file;
  return config;
}

interface Overrides {
  envBrokers?: string[];
  verifyOverride?: boolean;
}

/** Validates an already parsed configuration object; problems are pushed to `errors`. */
export function validateSourcesConfig(raw: unknown, errors: FieldError[], overrides: Overrides = {}): SourcesConfig {
  const v = new Validator(errors);
  const root = v.object(raw, '(root)', ['kafka', 'sns', 'cloudevents', 'sinks', 'outbox']) ?? {};
  const cloudevents = v.ceMapping(root.cloudevents, 'cloudevents', { nameAttribute: 'type', params: 'data' });

  let kafka: KafkaSourceConfig | undefined;
  if (root.kafka !== undefined) {
    const k = v.object(root.kafka, 'kafka', ['brokers', 'clientId', 'groupId', 'deadLetterTopic', 'subscriptions', ...Object.keys(KAFKA_TUNING)]) ?? {};
    const subs = v.array(k.subscriptions, 'kafka.subscriptions') ?? [];
    kafka = {
      brokers: overrides.envBrokers ?? v.brokers(k.brokers, 'kafka.brokers', true),
      clientId: v.string(k.clientId, 'kafka.clientId', false) ?? 'baton',
      groupId: v.string(k.groupId, 'kafka.groupId', false) ?? 'baton-signals',
      deadLetterTopic: v.topic(k.deadLetterTopic, 'kafka.deadLetterTopic', false) ?? 'baton-signals-dlq',
      subscriptions: subs.map((s, i) => v.kafkaSubscription(s, `kafka.subscriptions[${i}]`, cloudevents)),
    };
    for (const [key, max] of Object.entries(KAFKA_TUNING) as [keyof typeof KAFKA_TUNING, number][]) {
      const n = v.positiveInt(k[key], `kafka.${key}`);
      if (n === undefined) continue;
      if (n > max) errors.push({ field: `kafka.${key}`, message: `must be at most ${max}` });
      else kafka[key] = n;
    }
    const seen = new Set<string>();
    kafka.subscriptions.forEach((s, i) => {
      if (!s.topic) return;
      if (seen.has(s.topic)) errors.push({ field: `kafka.subscriptions[${i}].topic`, message: `topic "${s.topic}" is subscribed twice` });
      seen.add(s.topic);
      if (s.topic === kafka!.deadLetterTopic) errors.push({ field: `kafka.subscriptions[${i}].topic`, message: 'must not be the dead-letter topic' });
    });
  }

  const s = v.object(root.sns, 'sns', ['verifySignatures', 'certificateHosts', 'subscriptions']) ?? {};
  const certificateHosts = v.string(s.certificateHosts, 'sns.certificateHosts', false) ?? DEFAULT_SNS_CERT_HOSTS;
  try {
    new RegExp(certificateHosts);
  } catch (err) {
    errors.push({ field: 'sns.certificateHosts', message: `not a valid regular expression: ${(err as Error).message}` });
  }
  let verifySignatures = true;
  if (s.verifySignatures !== undefined) {
    if (typeof s.verifySignatures !== 'boolean') errors.push({ field: 'sns.verifySignatures', message: 'must be true or false' });
    else verifySignatures = s.verifySignatures;
  }
  if (overrides.verifyOverride !== undefined) verifySignatures = overrides.verifyOverride;
  const sns: SnsSourceConfig = {
    verifySignatures,
    certificateHosts,
    subscriptions: (v.array(s.subscriptions, 'sns.subscriptions') ?? []).map((x, i) => v.snsSubscription(x, `sns.subscriptions[${i}]`, cloudevents)),
  };

  const sinks = (v.array(root.sinks, 'sinks') ?? []).map((x, i) => v.sink(x, `sinks[${i}]`, overrides.envBrokers ?? kafka?.brokers));
  const names = new Set<string>();
  sinks.forEach((x, i) => {
    if (names.has(x.name)) errors.push({ field: `sinks[${i}].name`, message: `sink name "${x.name}" is used twice` });
    names.add(x.name);
  });

  const o = v.object(root.outbox, 'outbox', Object.keys(OUTBOX_DEFAULTS)) ?? {};
  const outbox: OutboxConfig = { ...OUTBOX_DEFAULTS };
  for (const key of Object.keys(OUTBOX_DEFAULTS) as (keyof OutboxConfig)[]) {
    const n = v.positiveInt(o[key], `outbox.${key}`);
    if (n !== undefined) outbox[key] = n;
  }
  if (outbox.minBackoffMs > outbox.maxBackoffMs) errors.push({ field: 'outbox.minBackoffMs', message: 'must not exceed outbox.maxBackoffMs' });
  return { kafka, sns, cloudevents, sinks, outbox };
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const EVENT_KINDS: readonly OutboundEventKind[] = ['signal', 'workflow', 'step'];

class Validator {
  constructor(private readonly errors: FieldError[]) {}

  private err(field: string, message: string): undefined {
    this.errors.push({ field, message });
    return undefined;
  }

  object(raw: unknown, field: string, known: readonly string[]): Record<string, unknown> | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'object' || Array.isArray(raw)) return this.err(field, 'must be an object');
    const rec = raw as Record<string, unknown>;
    for (const k of Object.keys(rec)) if (!known.includes(k)) this.err(field === '(root)' ? k : `${field}.${k}`, `unknown setting (expected one of ${known.join(', ')})`);
    return rec;
  }

  array(raw: unknown, field: string): unknown[] | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (!Array.isArray(raw)) return this.err(field, 'must be a list');
    return raw;
  }

  string(raw: unknown, field: string, required: boolean): string | undefined {
    if (raw === undefined || raw === null) return required ? this.err(field, 'is required') : undefined;
    if (typeof raw !== 'string' || raw.length === 0) return this.err(field, 'must be a non-empty string');
    return raw;
  }

  topic(raw: unknown, field: string, required: boolean): string | undefined {
    const t = this.string(raw, field, required);
    if (t !== undefined && !TOPIC.test(t)) return this.err(field, `"${t}" is not a valid Kafka topic name (letters, digits, ".", "_", "-"; at most 249)`);
    return t;
  }

  positiveInt(raw: unknown, field: string): number | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw <= 0) return this.err(field, 'must be a positive integer');
    return raw;
  }

  brokers(raw: unknown, field: string, required: boolean): string[] {
    if (raw === undefined || raw === null) {
      if (required) this.err(field, `is required (a list of host:port, or set ${SOURCES_ENV.kafkaBrokers})`);
      return [];
    }
    const list = typeof raw === 'string' ? raw.split(',').map((b) => b.trim()) : raw;
    if (!Array.isArray(list) || list.length === 0) {
      this.err(field, 'must be a non-empty list of host:port');
      return [];
    }
    list.forEach((b, i) => {
      if (typeof b !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(b)) this.err(`${field}[${i}]`, 'must be host:port');
    });
    return list.filter((b): b is string => typeof b === 'string');
  }

  valueSource(raw: unknown, field: string): ValueSource | undefined {
    if (typeof raw === 'string') return { value: raw };
    const rec = this.object(raw, field, ['value', 'header', 'field', 'optional']);
    if (!rec) return this.err(field, 'is required: {value: ...}, {header: ...} or {field: ...}');
    const kinds = ['value', 'header', 'field'].filter((k) => rec[k] !== undefined);
    if (kinds.length !== 1) return this.err(field, 'must have exactly one of value, header, field');
    if (rec.value !== undefined) {
      if (typeof rec.value === 'string' || (typeof rec.value === 'number' && Number.isInteger(rec.value))) return { value: rec.value };
      return this.err(`${field}.value`, 'must be a string or an integer');
    }
    const key = kinds[0] as 'header' | 'field';
    const s = this.string(rec[key], `${field}.${key}`, true);
    if (s === undefined) return undefined;
    return key === 'header' ? { header: s } : { field: s };
  }

  paramSources(raw: unknown, field: string): Record<string, ParamSource> {
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      this.err(field, 'must be an object of param name to {value|header|field}');
      return {};
    }
    const out: Record<string, ParamSource> = {};
    for (const [k, x] of Object.entries(raw as Record<string, unknown>)) {
      const src = this.valueSource(x, `${field}.${k}`);
      if (!src) continue;
      const optional = typeof x === 'object' && x !== null && (x as Record<string, unknown>).optional;
      if (optional !== undefined && optional !== false && optional !== true) this.err(`${field}.${k}.optional`, 'must be true or false');
      out[k] = optional === true ? { ...src, optional: true } : src;
    }
    return out;
  }

  payload(raw: unknown, field: string): PayloadSource {
    if (raw === undefined || raw === null || raw === 'message') return 'message';
    if (raw === 'none') return 'none';
    const rec = this.object(raw, field, ['field']);
    const f = rec ? this.string(rec.field, `${field}.field`, true) : undefined;
    if (!rec && typeof raw === 'string') this.err(field, 'must be "message", "none" or {field: ...}');
    return f ? { field: f } : 'message';
  }

  mapping(rec: Record<string, unknown>, field: string, required: boolean): SignalMapping {
    const name = rec.name === undefined && !required ? { value: '' } : this.valueSource(rec.name, `${field}.name`);
    return { name: name ?? { value: '' }, params: this.paramSources(rec.params, `${field}.params`), payload: this.payload(rec.payload, `${field}.payload`) };
  }

  format(raw: unknown, field: string): 'json' | 'cloudevents' {
    if (raw === undefined || raw === null) return 'json';
    if (raw === 'json' || raw === 'cloudevents') return raw;
    this.err(field, 'must be "json" or "cloudevents"');
    return 'json';
  }

  ceMapping(raw: unknown, field: string, base: CloudEventMapping): CloudEventMapping {
    const rec = this.object(raw, field, ['nameAttribute', 'params']);
    if (!rec) return base;
    const nameAttribute = this.string(rec.nameAttribute, `${field}.nameAttribute`, false) ?? base.nameAttribute;
    if (!/^[a-z0-9]{1,20}$/.test(nameAttribute)) this.err(`${field}.nameAttribute`, 'must be a CloudEvents attribute name (lower-case letters and digits)');
    const params = rec.params === undefined || rec.params === 'data' ? base.params : this.paramSources(rec.params, `${field}.params`);
    return { nameAttribute, params };
  }

  kafkaSubscription(raw: unknown, field: string, ce: CloudEventMapping): KafkaSubscriptionConfig {
    const rec = this.object(raw, field, ['topic', 'format', 'name', 'params', 'payload', 'dedupe', 'cloudevents']) ?? {};
    if (raw === undefined || raw === null) this.err(field, 'must be an object');
    const format = this.format(rec.format, `${field}.format`);
    let dedupe: KafkaDedupe = 'offset';
    if (typeof rec.dedupe === 'string' && rec.dedupe !== 'offset') {
      this.err(`${field}.dedupe`, 'must be "offset", {header: name} or {field: path}');
    } else if (rec.dedupe !== undefined && rec.dedupe !== 'offset') {
      const d = this.object(rec.dedupe, `${field}.dedupe`, ['header', 'field']);
      if (d && typeof d.header === 'string' && d.header && d.field === undefined) dedupe = { header: d.header };
      else if (d && typeof d.field === 'string' && d.field && d.header === undefined) dedupe = { field: d.field };
      else this.err(`${field}.dedupe`, 'must be "offset", {header: name} or {field: path}');
    }
    return {
      topic: this.topic(rec.topic, `${field}.topic`, true) ?? '',
      format,
      mapping: this.mapping(rec, field, format === 'json'),
      cloudevents: this.ceMapping(rec.cloudevents, `${field}.cloudevents`, ce),
      dedupe,
    };
  }

  snsSubscription(raw: unknown, field: string, ce: CloudEventMapping): SnsSubscriptionConfig {
    const rec = this.object(raw, field, ['topicArn', 'format', 'name', 'params', 'payload', 'cloudevents']) ?? {};
    if (raw === undefined || raw === null) this.err(field, 'must be an object');
    const topicArn = this.string(rec.topicArn, `${field}.topicArn`, true) ?? '';
    if (topicArn && topicArn !== '*' && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(topicArn)) {
      this.err(`${field}.topicArn`, `"${topicArn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>) or *`);
    }
    const format = this.format(rec.format, `${field}.format`);
    return { topicArn, format, mapping: this.mapping(rec, field, format === 'json'), cloudevents: this.ceMapping(rec.cloudevents, `${field}.cloudevents`, ce) };
  }

  sink(raw: unknown, field: string, defaultBrokers: string[] | undefined): SinkConfig {
    const rec = this.object(raw, field, ['name', 'type', 'events', 'signalPrefixes', 'topic', 'brokers', 'topicArn', 'region', 'endpoint']) ?? {};
    const name = this.string(rec.name, `${field}.name`, true) ?? '';
    let events: OutboundEventKind[] = [...EVENT_KINDS];
    if (rec.events !== undefined) {
      const list = this.array(rec.events, `${field}.events`) ?? [];
      events = [];
      list.forEach((e, i) => {
        if (EVENT_KINDS.includes(e as OutboundEventKind)) events.push(e as OutboundEventKind);
        else this.err(`${field}.events[${i}]`, `must be one of ${EVENT_KINDS.join(', ')}`);
      });
    }
    let signalPrefixes: string[] | undefined;
    if (rec.signalPrefixes !== undefined) {
      signalPrefixes = (this.array(rec.signalPrefixes, `${field}.signalPrefixes`) ?? []).flatMap((p, i) => {
        const s = this.string(p, `${field}.signalPrefixes[${i}]`, true);
        return s === undefined ? [] : [s];
      });
    }
    const base = { name, events, ...(signalPrefixes ? { signalPrefixes } : {}) };
    if (rec.type === 'kafka') {
      const brokers = rec.brokers !== undefined ? this.brokers(rec.brokers, `${field}.brokers`, true) : defaultBrokers?.length ? defaultBrokers : this.brokers(undefined, `${field}.brokers`, true);
      return { ...base, type: 'kafka', topic: this.topic(rec.topic, `${field}.topic`, true) ?? '', brokers };
    }
    if (rec.type === 'sns') {
      const topicArn = this.string(rec.topicArn, `${field}.topicArn`, true) ?? '';
      if (topicArn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(topicArn)) this.err(`${field}.topicArn`, `"${topicArn}" is not an SNS topic ARN`);
      const endpoint = this.string(rec.endpoint, `${field}.endpoint`, false);
      if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint)) this.err(`${field}.endpoint`, 'must be an http(s) URL');
      const region = this.string(rec.region, `${field}.region`, false) ?? topicArn.split(':')[3];
      return { ...base, type: 'sns', topicArn, ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
    }
    this.err(`${field}.type`, rec.type === undefined ? 'is required ("kafka" or "sns")' : 'must be "kafka" or "sns"');
    return { ...base, type: 'kafka', topic: '', brokers: [] };
  }
}
