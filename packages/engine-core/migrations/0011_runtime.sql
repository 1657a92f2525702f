-- Durable engine state: workflow instances (one row per run), step attempts and their timelines.
-- Every status change is a guarded UPDATE (WHERE status = <expected>) plus a timeline row, in one
-- transaction with the queue jobs it implies.

-- Per workflow: the instance-id counter (its row lock serialises starts of one workflow) and the
-- run-strategy state.
CREATE TABLE IF NOT EXISTS baton_workflow_state (
  workflow_id TEXT PRIMARY KEY,
  last_instance_id BIGINT NOT NULL DEFAULT 0,
  -- STRICT_SEQUENTIAL: the failed instance that blocks later runs until unblocked.
  blocked_by_instance BIGINT
);

CREATE TABLE IF NOT EXISTS baton_workflow_instances (
  id BIGSERIAL PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  instance_id BIGINT NOT NULL,
  run_id INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL,
  request_id TEXT,
  initiator JSONB NOT NULL DEFAULT '{}'::jsonb,
  run_params JSONB NOT NULL DEFAULT '{}'::jsonb,
  params JSONB,
  reason TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  ended_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (workflow_id, instance_id, run_id),
  UNIQUE (workflow_id, request_id)
);
CREATE INDEX IF NOT EXISTS baton_instances_by_status ON baton_workflow_instances (workflow_id, status, instance_id);
CREATE INDEX IF NOT EXISTS baton_instances_open ON baton_workflow_instances (status) WHERE status IN ('CREATED', 'IN_PROGRESS', 'PAUSED');

CREATE TABLE IF NOT EXISTS baton_instance_timeline (
  id BIGSERIAL PRIMARY KEY,
  instance_pk BIGINT NOT NULL REFERENCES baton_workflow_instances (id),
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  from_status TEXT,
  to_status TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS baton_instance_timeline_by_instance ON baton_instance_timeline (instance_pk, id);

CREATE TABLE IF NOT EXISTS baton_step_attempts (
  id BIGSERIAL PRIMARY KEY,
  instance_pk BIGINT NOT NULL REFERENCES baton_workflow_instances (id),
  step_id TEXT NOT NULL,
  attempt_id INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL,
  -- Fencing token: bumped by each owner that takes the attempt over; writes present it.
  generation BIGINT NOT NULL DEFAULT 0,
  step_type TEXT,
  params JSONB,
  outputs JSONB,
  -- Outgoing edges evaluated when the step ended: successor id -> true/false.
  edges JSONB,
  reason TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  ended_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (instance_pk, step_id, attempt_id)
);

CREATE TABLE IF NOT EXISTS baton_step_timeline (
  id BIGSERIAL PRIMARY KEY,
  attempt_pk BIGINT NOT NULL REFERENCES baton_step_attempts (id),
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  from_status TEXT,
  to_status TEXT,
  message TEXT NOT NULL,
  details JSONB
);
CREATE INDEX IF NOT EXISTS baton_step_timeline_by_attempt ON baton_step_timeline (attempt_pk, id);
