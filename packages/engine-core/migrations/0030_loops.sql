-- Foreach (and while) iterations run as child instances of the loop step's attempt: an inline
-- workflow made of the loop's inner steps. Children are created a few at a time from a cursor, so
-- a loop of any size never holds more than its concurrency of pending work.
ALTER TABLE baton_workflow_instances ADD COLUMN IF NOT EXISTS parent_attempt_pk BIGINT REFERENCES baton_step_attempts (id);
ALTER TABLE baton_workflow_instances ADD COLUMN IF NOT EXISTS iteration BIGINT;
CREATE UNIQUE INDEX IF NOT EXISTS baton_instances_by_parent ON baton_workflow_instances (parent_attempt_pk, iteration) WHERE parent_attempt_pk IS NOT NULL;

-- One row per running loop attempt: the cursor (next iteration to launch) and the tally of ended
-- iterations, updated in the transaction that ends each child.
CREATE TABLE IF NOT EXISTS baton_loop_state (
  attempt_pk BIGINT PRIMARY KEY REFERENCES baton_step_attempts (id),
  total BIGINT NOT NULL,
  launched BIGINT NOT NULL DEFAULT 0,
  succeeded BIGINT NOT NULL DEFAULT 0,
  failed BIGINT NOT NULL DEFAULT 0,
  stopped BIGINT NOT NULL DEFAULT 0
);
