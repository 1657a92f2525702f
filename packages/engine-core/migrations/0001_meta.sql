-- Process registry: each running Baton process heartbeats here; leases and fencing refer to it.
CREATE TABLE IF NOT EXISTS baton_processes (
  process_id TEXT PRIMARY KEY,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
