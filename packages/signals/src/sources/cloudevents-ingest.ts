import { SignalValidationError, type FieldError } from '../errors.js';
import { MAX_BATCH, type PublishInput, type PublishResult, type SignalSource } from '../model.js';
import { cloudEventToSignal, DEFAULT_CLOUDEVENT_MAPPING, parseStructuredEvent, type CloudEventMapping } from './cloudevents.js';
import { MappingError } from './mapping.js';
import { normalizeBatch } from '../validate.js';

/** Where mapped events go: SignalService.publish fits (atomic batch, duplicates reported). */
export interface SignalPublisher {
  publish(signals: readonly unknown[], source: SignalSource): Promise<PublishResult[]>;
}

/**
 * CloudEvents over HTTP (structured mode, one event or a batch) as signals. A batch is stored
 * atomically: any event that is not a valid CloudEvent or cannot become a signal rejects the
 * batch with a SignalValidationError naming `events[i]...`. Redelivery of an event (same source
 * and id) returns the first instance with duplicate: true.
 */
export class CloudEventsIngestor {
  constructor(
    private readonly publisher: SignalPublisher,
    private readonly mapping: CloudEventMapping = DEFAULT_CLOUDEVENT_MAPPING,
  ) {}

  async publish(events: readonly unknown[], mode: 'structured' | 'batch'): Promise<PublishResult[]> {
    const field = mode === 'batch' ? 'events' : 'event';
    if (events.length === 0) throw new SignalValidationError([{ field, message: 'must hold at least one CloudEvent' }]);
    if (events.length > MAX_BATCH) throw new SignalValidationError([{ field, message: `must hold at most ${MAX_BATCH} CloudEvents (got ${events.length})` }]);
    const errors: FieldError[] = [];
    const signals: PublishInput[] = [];
    events.forEach((raw, i) => {
      const at = mode === 'batch' ? `events[${i}]` : 'event';
      try {
        const input = cloudEventToSignal(parseStructuredEvent(raw, at), this.mapping);
        normalizeBatch([input], 'x');
        signals.push(input);
      } catch (err) {
        if (err instanceof SignalValidationError) errors.push(...err.errors.map((e) => ({ ...e, field: e.field.replace(/^x\[0\]/, at) })));
        else if (err instanceof MappingError) errors.push(mappingProblem(err.message, at));
        else throw err;
      }
    });
    if (errors.length > 0) throw new SignalValidationError(errors);
    return this.publisher.publish(signals, { type: 'REST', envelope: 'cloudevents' });
  }
}

/** `events[1].specversion: only ...` as field `events[1].specversion` and its message. */
function mappingProblem(message: string, at: string): FieldError {
  const m = /^(\S+?): (.*)$/s.exec(message);
  if (m && m[1]!.startsWith(at)) return { field: m[1]!, message: m[2]! };
  return { field: at, message };
}
