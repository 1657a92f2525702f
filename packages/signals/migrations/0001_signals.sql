-- Per-name counter: the row lock serialises publishers of one name so seq_id stays gap-free.
CREATE TABLE IF NOT EXISTS signal_names (
  name TEXT PRIMARY KEY,
  last_seq BIGINT NOT NULL DEFAULT 0
);

-- Params are JSON strings and JSON numbers (integers); jsonb keeps numbers as exact numerics, so
-- 64-bit values survive as long as they are read back through params::text.
CREATE TABLE IF NOT EXISTS signal_instances (
  name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  instance_id TEXT NOT NULL,
  request_id TEXT,
  params JSONB NOT NULL,
  payload JSONB,
  request_time BIGINT,
  source JSONB,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (name, seq_id),
  UNIQUE (name, instance_id)
);
CREATE INDEX IF NOT EXISTS signal_instances_params_idx ON signal_instances USING GIN (params jsonb_path_ops);
CREATE INDEX IF NOT EXISTS signal_instances_time_idx ON signal_instances (name, create_time);

-- Durable match jobs, written in the publishing transaction and deleted by the matcher that
-- processed them. only_trigger restricts a backfill job to one subscription.
CREATE TABLE IF NOT EXISTS signal_match_queue (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  only_workflow_id TEXT,
  only_trigger_id TEXT
);

-- One row per workflow signal trigger; the row is also the lock that serialises its firings.
CREATE TABLE IF NOT EXISTS signal_subscriptions (
  workflow_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  trigger_index INTEGER NOT NULL,
  workflow_version BIGINT,
  definition JSONB NOT NULL,
  signal_names TEXT[] NOT NULL,
  active BOOLEAN NOT NULL,
  active_since TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, trigger_id)
);

-- Bumped by every subscription change; matchers hold it FOR SHARE while matching so a change
-- waits for in-flight matches and every later match sees the change.
CREATE TABLE IF NOT EXISTS signal_subscription_generation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation BIGINT NOT NULL
);
INSERT INTO signal_subscription_generation (id, generation) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

-- Matching instances waiting to complete a join; deleted when consumed.
CREATE TABLE IF NOT EXISTS signal_trigger_candidates (
  workflow_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  signal_name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  join_key TEXT NOT NULL,
  signal_time TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (workflow_id, trigger_id, signal_name, seq_id)
);
CREATE INDEX IF NOT EXISTS signal_trigger_candidates_join_idx ON signal_trigger_candidates (workflow_id, trigger_id, join_key);

-- One row per firing: the consumed signals (what params.getFromSignal reads) and the start.
CREATE TABLE IF NOT EXISTS signal_trigger_firings (
  id BIGSERIAL PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  request_id TEXT NOT NULL UNIQUE,
  join_key TEXT NOT NULL,
  signals JSONB NOT NULL,
  outcome TEXT NOT NULL,
  dedup_key TEXT,
  workflow_instance_id TEXT,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Each signal instance feeds at most one firing of a given trigger.
CREATE TABLE IF NOT EXISTS signal_trigger_consumptions (
  workflow_id TEXT NOT NULL,
  trigger_id TEXT NOT NULL,
  signal_name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  firing_id BIGINT NOT NULL REFERENCES signal_trigger_firings (id),
  PRIMARY KEY (workflow_id, trigger_id, signal_name, seq_id)
);

-- Steps waiting for their signal dependencies; names lets a new signal find its waiters.
CREATE TABLE IF NOT EXISTS signal_step_waiters (
  attempt_ref TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  workflow_instance_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  dependencies JSONB NOT NULL,
  signal_names TEXT[] NOT NULL,
  status TEXT NOT NULL,
  matched JSONB,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  update_time TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS signal_step_waiters_names_idx ON signal_step_waiters USING GIN (signal_names);

-- Step signal outputs published per attempt (so a second completion publishes nothing new).
CREATE TABLE IF NOT EXISTS signal_step_outputs (
  attempt_ref TEXT NOT NULL,
  output_index INTEGER NOT NULL,
  signal_name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  PRIMARY KEY (attempt_ref, output_index)
);

-- One row per lineage edge. Endpoints: signal instances (name, seq) and workflow instances or
-- their step attempts (workflow id, instance id, optional step id and attempt).
CREATE TABLE IF NOT EXISTS signal_lineage (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('TRIGGERED', 'UNBLOCKED', 'EMITTED')),
  signal_name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  workflow_id TEXT NOT NULL,
  workflow_instance_id TEXT NOT NULL,
  step_id TEXT,
  attempt INTEGER,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (kind, signal_name, seq_id, workflow_id, workflow_instance_id, step_id, attempt)
);
CREATE INDEX IF NOT EXISTS signal_lineage_signal_idx ON signal_lineage (signal_name, seq_id);
CREATE INDEX IF NOT EXISTS signal_lineage_workflow_idx ON signal_lineage (workflow_id, workflow_instance_id);
CREATE INDEX IF NOT EXISTS signal_trigger_firings_dedup_idx ON signal_trigger_firings (workflow_id, trigger_id, dedup_key);
