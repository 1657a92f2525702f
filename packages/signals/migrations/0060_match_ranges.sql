-- A publishing transaction gives each name's new instances one contiguous range of seq ids, so
-- one match job per name and transaction covers them all: seq_id .. seq_to (NULL: seq_id alone).
-- A 20,000-signal Kafka transaction then writes, and the matcher later locks and deletes, a
-- hundred queue rows instead of 20,000; a matcher that takes only part of a range moves seq_id on.
ALTER TABLE signal_match_queue ADD COLUMN IF NOT EXISTS seq_to BIGINT;
