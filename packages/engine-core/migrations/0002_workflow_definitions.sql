-- Workflow definitions: one row per workflow (its properties, kept across versions, and which
-- version is active) and one immutable row per pushed version. The workflow row is the lock that
-- serialises pushes of one workflow, so version numbers are gap-free.
CREATE TABLE IF NOT EXISTS baton_workflows (
  workflow_id TEXT PRIMARY KEY,
  properties JSONB NOT NULL DEFAULT '{}'::jsonb,
  latest_version INTEGER NOT NULL DEFAULT 0,
  active_version INTEGER,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS baton_workflow_versions (
  workflow_id TEXT NOT NULL REFERENCES baton_workflows (workflow_id),
  version INTEGER NOT NULL CHECK (version > 0),
  definition JSONB NOT NULL,
  -- The properties in force when this version was pushed (the current ones live on baton_workflows).
  properties JSONB NOT NULL,
  content_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version)
);

CREATE INDEX IF NOT EXISTS baton_workflows_active ON baton_workflows (workflow_id) WHERE active_version IS NOT NULL;

-- Lifecycle events written in the pushing transaction: other processes read them in order by seq
-- (the in-process emitter only reaches subscribers of the process that committed).
CREATE TABLE IF NOT EXISTS baton_workflow_events (
  seq BIGSERIAL PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('version_created', 'activated', 'deactivated', 'properties_changed')),
  version INTEGER,
  previous_active_version INTEGER,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS baton_workflow_events_by_workflow ON baton_workflow_events (workflow_id, seq);
