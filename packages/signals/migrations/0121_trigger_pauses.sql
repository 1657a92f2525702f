-- Paused signal triggers: an operator's pause of one trigger (trigger_id) or of every signal
-- trigger of a workflow, present and future ('*'). The matchers' subscription index leaves paused
-- subscriptions out, so signals published while paused start nothing and never join; halves of a
-- join collected before the pause stay in signal_trigger_candidates. Pausing and activating bump
-- signal_subscription_generation, which waits for matches in flight.
CREATE TABLE IF NOT EXISTS signal_trigger_pauses (
  workflow_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  paused_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  paused_by TEXT,
  reason TEXT,
  PRIMARY KEY (workflow_id, trigger_id)
);
