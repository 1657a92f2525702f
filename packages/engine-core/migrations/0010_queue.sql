-- The durable queue (transactional outbox). Rows are written in the same transaction as the state
-- change that needs follow-up work, claimed under a lease, and deleted when the work is done.
CREATE TABLE IF NOT EXISTS baton_jobs (
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  payload JSONB NOT NULL DEFAULT '{}'::jsonb,
  -- Optional de-duplication key: while a row with this key exists, adding it again only advances
  -- its run_at (and marks it dirty when it is being worked on, so it runs once more).
  job_key TEXT UNIQUE,
  run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Bumped on every claim: the fencing token a worker presents to renew, finish or fail its job,
  -- so a worker whose lease ran out can no longer touch a row someone else has claimed since.
  generation BIGINT NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 25,
  locked_by TEXT,
  locked_until TIMESTAMPTZ,
  dirty BOOLEAN NOT NULL DEFAULT false,
  last_error TEXT,
  failed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS baton_jobs_claim ON baton_jobs (kind, run_at) WHERE failed_at IS NULL;
