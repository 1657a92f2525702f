import type { FieldError } from '../../errors.js';
import { SourcesConfigError, type KafkaSourceConfig } from '../config-model.js';

/**
 * Checks the shape of a Kafka source configuration built in code (the configuration file is
 * checked, with its defaults applied, by validateSourcesConfig): a subscription the ingestor
 * cannot apply would otherwise fail on every message, and a chunk failing for a reason no retry
 * mends would be retried forever. Throws SourcesConfigError naming every field at fault.
 */
export function checkKafkaSubscriptions(config: KafkaSourceConfig): void {
  const errors: FieldError[] = [];
  const err = (field: string, message: string) => void errors.push({ field, message });
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const valueSource = (v: unknown, field: string) => {
    const ok =
      isObject(v) &&
      (('value' in v && (typeof v.value === 'string' || typeof v.value === 'number')) ||
        ('header' in v && typeof v.header === 'string' && v.header !== '') ||
        ('field' in v && typeof v.field === 'string' && v.field !== ''));
    if (!ok) err(field, 'must be {value: ...}, {header: name} or {field: path}');
  };
  if (!Array.isArray(config.subscriptions)) err('kafka.subscriptions', 'must be a list');
  (Array.isArray(config.subscriptions) ? config.subscriptions : []).forEach((sub: unknown, i) => {
    const at = `kafka.subscriptions[${i}]`;
    if (!isObject(sub)) return err(at, 'must be an object');
    if (typeof sub.topic !== 'string' || sub.topic === '') err(`${at}.topic`, 'must be a non-empty string');
    if (sub.format !== 'json' && sub.format !== 'cloudevents') err(`${at}.format`, 'must be "json" or "cloudevents"');
    const d = sub.dedupe;
    if (d !== 'offset' && !(isObject(d) && ((typeof d.header === 'string' && d.header !== '') || (typeof d.field === 'string' && d.field !== '')))) {
      err(`${at}.dedupe`, 'must be "offset", {header: name} or {field: path}');
    }
    if (sub.format === 'cloudevents') {
      const ce = sub.cloudevents;
      if (!isObject(ce) || typeof ce.nameAttribute !== 'string' || (ce.params !== 'data' && !isObject(ce.params))) {
        err(`${at}.cloudevents`, 'must be {nameAttribute: attribute, params: "data" or {param: source}}');
      }
      return;
    }
    const m = sub.mapping;
    if (!isObject(m)) return err(`${at}.mapping`, 'is required: {name, params, payload}');
    valueSource(m.name, `${at}.mapping.name`);
    if (!isObject(m.params)) err(`${at}.mapping.params`, 'must be an object of param name to {value|header|field} (may be empty)');
    else for (const [k, src] of Object.entries(m.params)) valueSource(src, `${at}.mapping.params.${k}`);
    const p = m.payload;
    if (p !== 'message' && p !== 'none' && !(isObject(p) && typeof p.field === 'string' && p.field !== '')) {
      err(`${at}.mapping.payload`, `${p === undefined ? 'is required' : 'is not valid'}: "message" (the whole value), "none" or {field: path}`);
    }
  });
  if (errors.length > 0) throw new SourcesConfigError(errors);
}
