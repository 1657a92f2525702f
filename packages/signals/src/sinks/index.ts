export { OutboundPublisher, type OutboundPublisherOptions, type SinkStats } from './publisher.js';
export { enqueueOutbound, outboxBacklog, sinksFor, claimOutbox, completeOutbox, retryOutbox, type OutboxRecord, type SinkBacklog } from './outbox.js';
export { outboundEventId, outboundCloudEvent, signalEventsOf, EVENT_TYPES, EVENT_SOURCE, type OutboundEvent, type SignalEvent, type WorkflowStatusEvent, type StepStatusEvent } from './events.js';
export { KafkaTransport, SnsTransport, createTransport, EVENT_ID_HEADER, EVENT_TYPE_HEADER, type OutboundTransport, type TransportDeps } from './transports.js';
