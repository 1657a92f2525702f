import type { PublishInput } from '../model.js';
import { dedupeRequestId, MappingError, parseMessageJson, readPath, type ParamSource } from './mapping.js';

/** How a CloudEvent becomes a signal. */
export interface CloudEventMapping {
  /** The attribute (a context attribute such as `type`, or an extension) that names the signal. */
  nameAttribute: string;
  /**
   * Params: `data` takes every top-level string or integer field of an object `data`; a record
   * maps params from data fields (`{ field: 'order.id' }`) or attributes (`{ header: 'subject' }`).
   */
  params: 'data' | Record<string, ParamSource>;
}

export const DEFAULT_CLOUDEVENT_MAPPING: CloudEventMapping = { nameAttribute: 'type', params: 'data' };

/** A CloudEvent 1.0 after validation: the context attributes as strings, and its data. */
export interface CloudEvent {
  attributes: Record<string, string>;
  data: unknown;
}

const REQUIRED = ['id', 'source', 'specversion', 'type'] as const;
// Attribute names are lower-case ASCII letters and digits (CloudEvents 1.0, section 3.1.1).
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

/** Checks the context of a structured-mode event (a parsed JSON object) and returns it. */
export function parseStructuredEvent(raw: unknown, field = 'event'): CloudEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MappingError(`${field}: a CloudEvent must be a JSON object`);
  const rec = raw as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'data' || k === 'data_base64') continue;
    if (!ATTRIBUTE_NAME.test(k)) throw new MappingError(`${field}.${k}: CloudEvents attribute names are 1-20 lower-case letters or digits`);
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') attributes[k] = v;
    else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') attributes[k] = String(v);
    else throw new MappingError(`${field}.${k}: a CloudEvents attribute must be a string, number or boolean`);
  }
  let data: unknown = rec.data;
  if (rec.data_base64 !== undefined) {
    if (rec.data !== undefined) throw new MappingError(`${field}: data and data_base64 must not both be present`);
    if (typeof rec.data_base64 !== 'string') throw new MappingError(`${field}.data_base64: must be a base64 string`);
    data = decodeData(Buffer.from(rec.data_base64, 'base64'), attributes.datacontenttype);
  }
  checkRequired(attributes, field);
  return { attributes, data };
}

/**
 * A binary-mode event over Kafka: attributes in `ce_<name>` headers, `content-type` as
 * datacontenttype, the message value as data (parsed when it is JSON).
 */
export function parseBinaryKafkaEvent(headers: Readonly<Record<string, string | undefined>>, value: Buffer | null): CloudEvent {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || !k.toLowerCase().startsWith('ce_')) continue;
    attributes[k.slice(3).toLowerCase()] = v;
  }
  const contentType = headers['content-type'] ?? headers['Content-Type'];
  if (contentType !== undefined && attributes.datacontenttype === undefined) attributes.datacontenttype = contentType;
  checkRequired(attributes, 'headers');
  return { attributes, data: value === null ? undefined : decodeData(value, attributes.datacontenttype) };
}

/** True when Kafka headers carry a binary-mode CloudEvent. */
export function isBinaryKafkaEvent(headers: Readonly<Record<string, string | undefined>>): boolean {
  return headers.ce_specversion !== undefined && headers.ce_id !== undefined;
}

function checkRequired(attributes: Record<string, string>, field: string): void {
  const missing = REQUIRED.filter((a) => !attributes[a]);
  if (missing.length > 0) throw new MappingError(`${field}: CloudEvent is missing required attribute${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  if (attributes.specversion !== '1.0') throw new MappingError(`${field}.specversion: only CloudEvents 1.0 is supported (got "${attributes.specversion}")`);
}

function decodeData(bytes: Buffer, contentType: string | undefined): unknown {
  const text = bytes.toString('utf8');
  const json = contentType === undefined || /[/+]json(\s*;|$)/i.test(contentType);
  if (!json) return text;
  try {
    return parseMessageJson(text);
  } catch (err) {
    throw new MappingError(`data is not valid JSON (${(err as Error).message})`);
  }
}

/** The dedupe request id of an event: CloudEvents says `source` + `id` identify it. */
export function cloudEventRequestId(event: CloudEvent): string {
  const { source, id } = event.attributes as { source: string; id: string };
  return dedupeRequestId('ce', `${source.length}:${source}:${id}`);
}

/** Maps a validated CloudEvent to a signal to publish. Throws MappingError naming the problem. */
export function cloudEventToSignal(event: CloudEvent, mapping: CloudEventMapping = DEFAULT_CLOUDEVENT_MAPPING): PublishInput {
  const name = event.attributes[mapping.nameAttribute];
  if (!name) throw new MappingError(`CloudEvent attribute "${mapping.nameAttribute}" (the signal name) is missing`);
  const params: Record<string, unknown> = {};
  const data = event.data;
  if (mapping.params === 'data') {
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
      for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
        if (typeof v === 'string' || typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) params[k] = v;
      }
    }
  } else {
    for (const [param, src] of Object.entries(mapping.params)) {
      let v: unknown;
      if ('value' in src) v = src.value;
      else if ('header' in src) v = event.attributes[src.header];
      else v = readPath(data, src.field);
      if (v === undefined || v === null) {
        if (src.optional) continue;
        throw new MappingError(`param "${param}": ${'header' in src ? `attribute "${src.header}"` : 'field' in src ? `data field "${src.field}"` : 'value'} is missing`);
      }
      if (typeof v === 'string' || typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) params[param] = v;
      else throw new MappingError(`param "${param}" must be a string or an integer`);
    }
  }
  const { id, source, type, subject, time } = event.attributes;
  return {
    name,
    params,
    payload: { data: data ?? null, cloudevent: { id, source, type, ...(subject ? { subject } : {}), ...(time ? { time } : {}) } },
    request_id: cloudEventRequestId(event),
  };
}
