/**
 * The condition, on a `signal_subscriptions` row aliased `s`, that neither the trigger nor every
 * signal trigger of its workflow ('*') is paused. The matchers' index leaves paused rows out.
 */
export const SUB_NOT_PAUSED = `NOT EXISTS (SELECT 1 FROM signal_trigger_pauses p
  WHERE p.workflow_id = s.workflow_id AND p.trigger_id IN ('*', s.trigger_id))`;

/** The pause row that stands for every signal trigger of a workflow, present and future. */
export const ALL_SIGNAL_TRIGGERS = '*';
