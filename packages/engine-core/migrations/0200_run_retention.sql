-- Retention of finished runs (BATON_RUN_RETENTION). A retention pass deletes the whole family of
-- an expired top-level run chain (every run of the instance, its subworkflow children and loop
-- iterations, their steps, timelines, logs) in bounded batches, and leaves one tombstone per purged
-- instance chain (not per loop iteration) so lineage and reads can say what was there.
CREATE TABLE IF NOT EXISTS baton_run_tombstones (
  workflow_id TEXT NOT NULL,
  instance_id BIGINT NOT NULL,
  -- How many runs (the restart chain) were purged, the last one's id and status.
  runs INTEGER NOT NULL,
  last_run_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ,
  purged_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (workflow_id, instance_id)
);

-- The pass walks top-level runs by end time (oldest first); only top-level rows are candidates.
CREATE INDEX IF NOT EXISTS baton_instances_top_ended ON baton_workflow_instances (ended_at, id) WHERE parent_attempt_pk IS NULL;
