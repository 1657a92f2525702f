/**
 * Workflow lifecycle events. The database is the truth (`baton_workflow_events`, written in the
 * same transaction as the change); this emitter tells subscribers in this process right after
 * the commit. Subscribers (scheduler, signals) list active definitions when they start, then
 * follow events — and other processes follow the table via `listWorkflowEvents`.
 */
export type WorkflowEventKind = 'version_created' | 'activated' | 'deactivated' | 'properties_changed';

export interface WorkflowEvent {
  seq: number;
  kind: WorkflowEventKind;
  workflowId: string;
  /** The version created or activated; for `deactivated`, the version that was active. */
  version?: number;
  /** For `activated`: the version active before (absent when none was). */
  previousActiveVersion?: number;
  createdAt: Date;
}

export type WorkflowEventListener = (event: WorkflowEvent) => void | Promise<void>;

export class WorkflowLifecycle {
  private readonly listeners = new Set<WorkflowEventListener>();

  /** @param onListenerError where a failing listener's error goes; it never fails the change itself. */
  constructor(private readonly onListenerError: (err: unknown, event: WorkflowEvent) => void = () => {}) {}

  /** Returns the function that unsubscribes. */
  subscribe(listener: WorkflowEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Delivers committed events, in order, to every listener. */
  async emit(events: readonly WorkflowEvent[]): Promise<void> {
    for (const event of events) {
      for (const listener of [...this.listeners]) {
        try {
          await listener(event);
        } catch (err) {
          this.onListenerError(err, event);
        }
      }
    }
  }
}

/** The process-wide emitter the versions store uses unless given another one. */
export const workflowLifecycle = new WorkflowLifecycle((err, event) => {
  process.emitWarning(`workflow lifecycle listener failed on ${event.kind} of ${event.workflowId}: ${String(err)}`);
});
