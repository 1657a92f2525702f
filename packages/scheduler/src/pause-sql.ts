/**
 * The condition, on a `scheduler_triggers` row, that neither the row's trigger nor every time
 * trigger of its workflow ('*') is paused. Firing and wake-up queries add it to their WHERE.
 */
export const NOT_PAUSED = `NOT EXISTS (SELECT 1 FROM scheduler_pauses p
  WHERE p.workflow_id = scheduler_triggers.workflow_id AND p.trigger_key IN ('*', scheduler_triggers.trigger_key))`;

/** The pause row that stands for every time trigger of a workflow, present and future. */
export const ALL_TRIGGERS = '*';
