-- Outbound events (emitted signals, workflow and step status changes), one row per event and
-- sink, written in the transaction of the change that caused them. Workers lease rows
-- (lease_owner, lease_until), delete them once the sink acknowledged, and push available_at
-- back with a growing delay when the sink failed. UNIQUE (sink, event_id): enqueuing the same
-- source event again while it is pending stores nothing new.
CREATE TABLE IF NOT EXISTS signal_outbox (
  id BIGSERIAL PRIMARY KEY,
  sink TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  message_key TEXT,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  available_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  lease_owner TEXT,
  lease_until TIMESTAMPTZ,
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (sink, event_id)
);
CREATE INDEX IF NOT EXISTS signal_outbox_due_idx ON signal_outbox (sink, available_at, id);
