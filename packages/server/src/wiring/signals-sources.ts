// Sources and sinks are not re-exported by @baton/signals' index (yet), so the composition root
// reaches them through the package's folder; every server import of them goes through this file.
export { loadSourcesConfig, SourcesConfigError, SourcesRuntime, type SourcesConfig, type SinkConfig } from '../../../signals/src/sources/index.js';
export { enqueueOutbound, signalEventsOf } from '../../../signals/src/sinks/index.js';
export type { PublishedHook } from '../../../signals/src/publish.js';
