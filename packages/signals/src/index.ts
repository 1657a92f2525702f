export { SignalService, DEFAULT_MATCH_LAG_WHILE_INGESTING_MS, type SignalServiceOptions } from './service.js';
export { IngestPressure } from './ingest-pressure.js';
export { signalsMigrations } from './migrations.js';
export type { PublishInput, PublishResult, SignalInstance, SignalParams, ParamValue, SignalSource } from './model.js';
export { MAX_BATCH, MAX_NAME_LENGTH } from './model.js';
export { SignalValidationError, SignalNotFoundError, TriggerPauseConflictError, type FieldError } from './errors.js';
export { MAX_JSON_NESTING, nestingBeyond, parseJson, stringifyJson, type Json } from './json.js';
export { normalizeBatch, nameProblem, type NormalizedSignal } from './validate.js';
export { publishInTx, SIGNAL_CHANNEL } from './publish.js';
export { getInstance, listInstances, type ListQuery, type InstancePage } from './queries.js';
export { OPERATORS, parseCondition, specMatches, conditionHolds, MatchSpecError, type Condition, type MatchSpec, type Operator } from './operators.js';
export { normalizeTrigger, triggerId, syncSubscriptionsInTx, SubscriptionIndex, type Subscription, type SyncOptions, type SyncResult } from './subscriptions.js';
export { Matcher, firingRequestId, matchBacklog, type MatchBacklog } from './matcher.js';
export {
  resolveDependency,
  checkDependencies,
  registerWaiter,
  bypassWaiter,
  cancelWaiter,
  getWaiter,
  attemptRef,
  type ResolvedDependency,
  type DependencyCheck,
  type WaiterState,
  type WaiterStatus,
} from './dependencies.js';
export { emitOutputs, type StepOutput } from './outputs.js';
export { writeLineage, type LineageEdge, type LineageKind } from './lineage-write.js';
export { downstreamOfSignal, upstreamOfWorkflow, signalNodeId, MAX_LINEAGE_DEPTH, type LineageGraph, type LineageNode, type LineageEdgeKind } from './lineage.js';
export { addTimeTriggers, timeTriggerNodeId, type TimeTriggerNode } from './lineage-time.js';
export {
  lineageCatalog,
  buildCatalog,
  catalogSignalId,
  catalogWorkflowId,
  CatalogFocusNotFoundError,
  CATALOG_DEFAULT_DEPTH,
  type LineageCatalog,
  type CatalogNode,
  type CatalogEdge,
  type CatalogEdgeKind,
  type CatalogQuery,
} from './lineage-catalog.js';
export { getFromSignal, getFromSignalDependency, loadFiringSignals, SignalParamError } from './sel-extensions.js';
export type * from './ports.js';
export { SignalStats, sourceLabel, type FiringOutcome } from './stats.js';
export { KafkaLagReader, type KafkaLagOptions, type LagAdmin, type PartitionLag } from './sources/kafka/lag.js';
export { pauseSignalTriggersInTx, activateSignalTriggersInTx, workflowsWithPausedSignalTriggers, type SignalPauseRequest, type SignalActivation } from './pauses.js';
export { listSignalTriggers, type SignalTriggerListQuery, type SignalTriggerItem, type SignalTriggerPage, type SignalTriggerInput } from './trigger-list.js';
export {
  DEFAULT_SCAN_LIMIT,
  MAX_SCAN_LIMIT,
  DEFAULT_CLOSEST,
  MAX_CLOSEST,
  type ConditionExplanation,
  type Mismatch,
  type NearMiss,
  type SignalRef,
  type ScanOptions,
} from './wait-explain.js';
export { explainStepWait, DEEP_MATCH_WINDOW, type StepWaitExplanation } from './wait-step.js';
export { explainTriggerWaits, DEFAULT_JOIN_LIMIT, MAX_JOIN_LIMIT, type TriggerWaitExplanation, type TriggerWait, type JoinExplanation, type TriggerWaitOptions } from './wait-trigger.js';
export { runRetentionPass, type RetentionPassOptions, type RetentionPassResult, type DroppedPartition, type TombstonePassResult } from './retention.js';
export { setRetentionPolicy, getRetentionPolicy, DEFAULT_RETENTION_SECONDS, type RetentionPolicy } from './retention-policy.js';
export { retentionStatus, signalTableSizes, runTableSizes, oldestRetainedSignal, SIGNAL_TABLES, type RetentionStatus, type RunRetentionStatus, type TableSize, type PartitionStatus } from './retention-status.js';
export { listPartitions, ensurePartitions, type Partition } from './partitions.js';
export { signalTombstones, type SignalTombstone } from './tombstones.js';
export { purgeRunLinkedRows, type RunLinkedPurgeResult } from './run-linked-purge.js';
export { purgeTombstones, oldestTombstone, type TombstonePurgeResult, type TombstoneCursor } from './tombstone-purge.js';
export { RetentionLoop, type RetentionLoopOptions } from './retention-loop.js';
