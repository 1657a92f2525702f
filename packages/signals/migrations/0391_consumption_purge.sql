-- A consumption row ("this instance fed a firing of this trigger") is only read while its signal
-- instance is stored (the matcher and a waiting trigger skip consumed instances). The retention
-- pass deletes the rows of the instances it purges, with the partition (retention.ts): this index
-- lets that delete find them by instance; the primary key starts with the trigger.
CREATE INDEX IF NOT EXISTS signal_trigger_consumptions_signal_idx ON signal_trigger_consumptions (signal_name, seq_id);
