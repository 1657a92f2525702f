-- Paused time triggers: an operator's pause of one trigger (trigger_key) or of every time trigger
-- of a workflow, present and future ('*'). A paused row keeps its place in the schedule
-- (next_fire_ms is not advanced), so activating it again hands the fire times that came due
-- meanwhile to the trigger's catch-up policy. Firing and wake-up queries skip paused rows; pausing
-- locks the workflow's rows first, so a fire that claimed a row before the pause completes first.
CREATE TABLE IF NOT EXISTS scheduler_pauses (
  workflow_id TEXT NOT NULL,
  trigger_key TEXT NOT NULL,
  paused_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  paused_by TEXT,
  reason TEXT,
  PRIMARY KEY (workflow_id, trigger_key)
);
