-- Breakpoints (Maestro): a step attempt of a matching instance pauses (PAUSED) before it runs,
-- until resumed one by one or until its breakpoint is deleted. Set per workflow and step; the
-- optional columns narrow it to one version, instance, run or attempt (NULL = any). Foreach and
-- while iterations match the breakpoints of their top-level workflow.
CREATE TABLE IF NOT EXISTS baton_breakpoints (
  id BIGSERIAL PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  version INTEGER,
  instance_id BIGINT,
  run_id INTEGER,
  attempt_id INTEGER,
  created_by JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS baton_breakpoints_unique ON baton_breakpoints (
  workflow_id, step_id, COALESCE(version, 0), COALESCE(instance_id, 0), COALESCE(run_id, 0), COALESCE(attempt_id, 0)
);

-- One row per attempt a breakpoint paused. The attempt waits here (no job, no worker) until
-- released_at is set, in the transaction that also queues its step job again.
CREATE TABLE IF NOT EXISTS baton_step_pauses (
  attempt_pk BIGINT PRIMARY KEY REFERENCES baton_step_attempts (id),
  breakpoint_id BIGINT NOT NULL,
  paused_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  released_at TIMESTAMPTZ,
  released_by TEXT
);
CREATE INDEX IF NOT EXISTS baton_step_pauses_held ON baton_step_pauses (breakpoint_id) WHERE released_at IS NULL;
