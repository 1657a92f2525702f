-- A foreach in a restarted run remembers the same step's attempt in the run before, so iterations
-- that succeeded there are counted as done instead of running again.
ALTER TABLE baton_loop_state ADD COLUMN IF NOT EXISTS previous_attempt_pk BIGINT;
