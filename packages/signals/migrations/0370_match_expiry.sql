-- The partition key (expire_at) of the instances a match job covers, and of a join candidate's
-- instance, so that the matcher's lookups by (name, seq_id) prune to the one partition holding
-- them instead of probing the primary key of every day partition (about 30 at the default
-- retention; the probes' pages outgrow the buffer cache as the table grows). NULL: not known (a
-- row written before this migration, a backfill job, or a row the retention pass moved to a later
-- partition): the lookup then reads every partition, as before.
ALTER TABLE signal_match_queue ADD COLUMN IF NOT EXISTS expire_at TIMESTAMPTZ;
ALTER TABLE signal_trigger_candidates ADD COLUMN IF NOT EXISTS signal_expire_at TIMESTAMPTZ;
