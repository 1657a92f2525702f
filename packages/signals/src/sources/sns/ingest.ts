import type { Db } from '@baton/engine-core';
import { SignalValidationError } from '../../errors.js';
import type { PublishInput, PublishResult } from '../../model.js';
import { publishInTx, type PublishedHook } from '../../publish.js';
import { normalizeBatch } from '../../validate.js';
import { cloudEventToSignal, parseStructuredEvent } from '../cloudevents.js';
import type { SnsSourceConfig, SnsSubscriptionConfig } from '../config.js';
import { dedupeRequestId, mapMessage, MappingError, parseMessageJson } from '../mapping.js';
import { SnsCertificateUnavailableError, SnsSignatureError, SnsVerifier, type CertificateFetcher, type SnsMessage } from './verify.js';

/** What the HTTP endpoint answers. Only 2xx tells SNS the delivery succeeded. */
export type SnsOutcome =
  | { status: 200; kind: 'confirmed' | 'unsubscribed'; topicArn: string }
  | { status: 200; kind: 'indexed' | 'duplicate'; topicArn: string; signal: PublishResult }
  | { status: 400 | 403 | 502 | 503; title: string; detail: string };

/** Confirms a subscription; the default GETs the SubscribeURL, as SNS documents. */
export type SubscriptionConfirmer = (msg: SnsMessage) => Promise<void>;

export interface SnsIngestorOptions {
  db: Db;
  config: SnsSourceConfig;
  /** Certificate download (tests inject theirs; default fetch over https). */
  fetchCertificate?: CertificateFetcher;
  confirm?: SubscriptionConfirmer;
  /** Runs in each publishing transaction (outbound events for the new signal). */
  onPublished?: PublishedHook;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface SnsIngestStats {
  indexed: number;
  duplicates: number;
  rejected: number;
  confirmed: number;
}

const MESSAGE_TYPES = new Set(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']);

async function getSubscribeUrl(msg: SnsMessage): Promise<void> {
  if (!msg.SubscribeURL) throw new Error('SubscribeURL is missing');
  const res = await fetch(msg.SubscribeURL, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET SubscribeURL answered HTTP ${res.status}`);
  await res.arrayBuffer();
}

/**
 * The SNS HTTP(S) subscription endpoint's logic: checks the message, verifies its signature
 * (unless the configuration explicitly turned that off), confirms subscriptions to configured
 * topics, and indexes notifications as signals deduplicated on MessageId.
 */
export class SnsIngestor {
  private readonly verifier: SnsVerifier;
  private readonly confirm: SubscriptionConfirmer;
  private readonly counters: SnsIngestStats = { indexed: 0, duplicates: 0, rejected: 0, confirmed: 0 };

  constructor(private readonly opts: SnsIngestorOptions) {
    this.verifier = new SnsVerifier({ certificateHosts: opts.config.certificateHosts, fetchCertificate: opts.fetchCertificate });
    this.confirm = opts.confirm ?? getSubscribeUrl;
  }

  stats(): SnsIngestStats {
    return { ...this.counters };
  }

  /** Handles one posted body (the raw text SNS sends, or its parsed JSON). */
  async handle(body: unknown, messageTypeHeader?: string): Promise<SnsOutcome> {
    const out = await this.process(body, messageTypeHeader);
    if (out.status !== 200) this.counters.rejected++;
    return out;
  }

  private subscription(topicArn: string): SnsSubscriptionConfig | undefined {
    const subs = this.opts.config.subscriptions;
    return subs.find((s) => s.topicArn === topicArn) ?? subs.find((s) => s.topicArn === '*');
  }

  private async process(body: unknown, messageTypeHeader: string | undefined): Promise<SnsOutcome> {
    let raw = body;
    if (typeof raw === 'string') {
      try {
        raw = JSON.parse(raw);
      } catch {
        return bad('the body is not a JSON SNS message');
      }
    }
    const problem = shapeProblem(raw);
    if (problem) return bad(problem);
    const msg = raw as SnsMessage;
    if (messageTypeHeader !== undefined && messageTypeHeader !== msg.Type) {
      return bad(`x-amz-sns-message-type header (${messageTypeHeader}) does not match the body's Type (${msg.Type})`);
    }
    const sub = this.subscription(msg.TopicArn);
    if (!sub) return { status: 403, title: 'Topic not configured', detail: `no SNS subscription is configured for topic ${msg.TopicArn}` };

    if (this.opts.config.verifySignatures) {
      try {
        await this.verifier.verify(msg);
      } catch (err) {
        if (err instanceof SnsSignatureError) {
          this.opts.logger?.warn({ topicArn: msg.TopicArn, messageId: msg.MessageId, reason: err.message }, 'sns: rejected a message with an invalid signature');
          return { status: 403, title: 'Invalid SNS signature', detail: err.message };
        }
        if (err instanceof SnsCertificateUnavailableError) return { status: 503, title: 'Certificate unavailable', detail: err.message };
        throw err;
      }
    }

    if (msg.Type === 'SubscriptionConfirmation') {
      try {
        await this.confirm(msg);
      } catch (err) {
        return { status: 502, title: 'Subscription not confirmed', detail: `confirming the subscription to ${msg.TopicArn} failed: ${(err as Error).message}` };
      }
      this.counters.confirmed++;
      this.opts.logger?.info({ topicArn: msg.TopicArn }, 'sns: subscription confirmed');
      return { status: 200, kind: 'confirmed', topicArn: msg.TopicArn };
    }
    if (msg.Type === 'UnsubscribeConfirmation') {
      this.opts.logger?.info({ topicArn: msg.TopicArn }, 'sns: subscription ended');
      return { status: 200, kind: 'unsubscribed', topicArn: msg.TopicArn };
    }

    let input: PublishInput;
    try {
      input = toSignal(sub, msg);
      const signals = normalizeBatch([input], 'signal');
      const [result] = await this.opts.db.tx(async (tx) => {
        const stored = await publishInTx(tx, signals, { type: 'SNS', topicArn: msg.TopicArn, messageId: msg.MessageId });
        await this.opts.onPublished?.(tx, stored, signals);
        return stored;
      });
      if (result!.duplicate) this.counters.duplicates++;
      else this.counters.indexed++;
      return { status: 200, kind: result!.duplicate ? 'duplicate' : 'indexed', topicArn: msg.TopicArn, signal: result! };
    } catch (err) {
      if (err instanceof MappingError || err instanceof SignalValidationError) return bad(`message ${msg.MessageId} cannot become a signal: ${err.message}`);
      throw err;
    }
  }
}

function bad(detail: string): SnsOutcome {
  return { status: 400, title: 'Invalid SNS message', detail };
}

function shapeProblem(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'the body must be a JSON object (an SNS message)';
  const rec = raw as Record<string, unknown>;
  if (typeof rec.Type !== 'string' || !MESSAGE_TYPES.has(rec.Type)) return `Type must be one of ${[...MESSAGE_TYPES].join(', ')}`;
  for (const f of ['MessageId', 'TopicArn', 'Message', 'Timestamp']) if (typeof rec[f] !== 'string') return `${f} must be a string`;
  for (const f of ['Subject', 'Token', 'SubscribeURL', 'Signature', 'SigningCertURL', 'SignatureVersion']) {
    if (rec[f] !== undefined && rec[f] !== null && typeof rec[f] !== 'string') return `${f} must be a string`;
  }
  if (rec.Type !== 'Notification' && typeof rec.SubscribeURL !== 'string') return 'SubscribeURL must be a string';
  return undefined;
}

/** Message attributes of type String or Number, readable by mappings as headers. */
function attributes(msg: SnsMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(msg.MessageAttributes ?? {})) {
    if (v && typeof v.Value === 'string' && (v.Type === 'String' || v.Type === 'Number' || v.Type === undefined)) out[k] = v.Value;
  }
  if (msg.Subject !== undefined) out.Subject ??= msg.Subject;
  return out;
}

function toSignal(sub: SnsSubscriptionConfig, msg: SnsMessage): PublishInput {
  let body: unknown;
  try {
    body = parseMessageJson(msg.Message);
  } catch {
    body = undefined;
  }
  if (sub.format === 'cloudevents') {
    if (body === undefined) throw new MappingError('Message is not a JSON CloudEvent');
    return cloudEventToSignal(parseStructuredEvent(body, 'Message'), sub.cloudevents);
  }
  const input = mapMessage(sub.mapping, { body, headers: attributes(msg) });
  input.request_id = dedupeRequestId('sns', msg.MessageId);
  return input;
}
