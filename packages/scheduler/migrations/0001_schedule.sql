-- The durable schedule: one row per time trigger of an active workflow. The row is the truth:
-- timers in a process are only a way to wake up at next_due_ms; losing them loses nothing.
-- Instants are epoch milliseconds (BIGINT) so every process and driver compares them exactly.
CREATE TABLE IF NOT EXISTS scheduler_triggers (
  workflow_id TEXT NOT NULL,
  -- The trigger's `id`, or a hash of its expression and zone: stable across unrelated edits.
  trigger_key TEXT NOT NULL,
  -- The active version whose definition the row follows; runs start that version.
  workflow_version INTEGER NOT NULL,
  -- The trigger as written, and the schedule it compiled to (a changed schedule re-plans).
  definition JSONB NOT NULL,
  expression TEXT NOT NULL,
  timezone TEXT NOT NULL,
  -- False while the workflow is inactive, its time triggers are disabled, or the trigger is invalid.
  enabled BOOLEAN NOT NULL DEFAULT true,
  -- The earliest fire time not yet handled (NULL: the schedule never fires again).
  next_fire_ms BIGINT,
  -- next_fire_ms plus the trigger's stable jitter: when a process should act on it.
  next_due_ms BIGINT,
  -- The latest fire time handled (started or skipped by the catch-up policy).
  watermark_ms BIGINT,
  -- The process that last fired the row (a claim is the row lock of the firing transaction).
  fired_by TEXT,
  started_count BIGINT NOT NULL DEFAULT 0,
  catch_up_count BIGINT NOT NULL DEFAULT 0,
  skipped_count BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, trigger_key)
);
CREATE INDEX IF NOT EXISTS scheduler_triggers_due ON scheduler_triggers (next_due_ms) WHERE enabled AND next_due_ms IS NOT NULL;
