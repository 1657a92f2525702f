-- While loops carry their loop params from one iteration to the next: the values the next
-- iteration (and the next condition check) starts from.
ALTER TABLE baton_loop_state ADD COLUMN IF NOT EXISTS carried JSONB;
