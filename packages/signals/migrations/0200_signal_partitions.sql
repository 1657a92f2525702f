-- Time-partitioned signal instances (see docs/operations.md, "Retention").
--
-- signal_instances becomes a table partitioned by RANGE (expire_at): each row stores when it
-- expires (its create time plus its name's retention, from signal_retention, at publish time), so
-- dropping a partition whose upper bound has passed removes exactly expired rows, whatever mix of
-- names with different retentions it holds. The service creates one partition per UTC day ahead
-- (partitions.ts) and drops expired ones (retention.ts). signal_instances_p_forever holds rows
-- kept forever (expire_at = 'infinity'); the DEFAULT partition catches a row whose day has no
-- partition yet (the next pass moves it into the day's partition when it creates it).
--
-- A unique index of a partitioned table must contain the partition key, so (name, instance_id)
-- can no longer be unique on signal_instances itself: publishing dedupes on signal_instance_keys,
-- a plain table with one narrow row per stored instance, written in the same statement. Its rows
-- are deleted by the retention pass together with their partition.

-- Retention per signal name in seconds; name '*' is the default. NULL seconds: keep forever.
-- The service writes it from its configuration; every process publishing reads it.
CREATE TABLE IF NOT EXISTS signal_retention (
  name TEXT PRIMARY KEY,
  seconds BIGINT CHECK (seconds IS NULL OR seconds > 0)
);
INSERT INTO signal_retention (name, seconds) VALUES ('*', 2592000) ON CONFLICT (name) DO NOTHING;

-- The dedupe key of every stored instance (exactly-once across partitions).
CREATE TABLE IF NOT EXISTS signal_instance_keys (
  name TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  PRIMARY KEY (name, instance_id)
);
INSERT INTO signal_instance_keys (name, instance_id, seq_id) SELECT name, instance_id, seq_id FROM signal_instances;

-- What is left of a purged instance that lineage still points to.
CREATE TABLE IF NOT EXISTS signal_tombstones (
  name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  instance_id TEXT NOT NULL,
  create_time TIMESTAMPTZ NOT NULL,
  purged_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (name, seq_id)
);

-- The existing table becomes the first partition, without copying its rows: every row it holds
-- expires 30 days (the default retention) after this migration, and the partition covers up to the
-- next UTC midnight after that (when it is empty, a new database: up to today's UTC midnight, so
-- the first retention pass drops it). The added column's stable default costs no table rewrite.
ALTER TABLE signal_instances RENAME TO signal_instances_p_legacy;
-- Its primary key becomes (name, seq_id, expire_at), built when it is attached below.
ALTER TABLE signal_instances_p_legacy DROP CONSTRAINT signal_instances_pkey;
ALTER TABLE signal_instances_p_legacy DROP CONSTRAINT signal_instances_name_instance_id_key;
ALTER INDEX signal_instances_params_idx RENAME TO signal_instances_p_legacy_params_idx;
ALTER INDEX signal_instances_time_idx RENAME TO signal_instances_p_legacy_time_idx;
ALTER TABLE signal_instances_p_legacy ADD COLUMN expire_at TIMESTAMPTZ NOT NULL DEFAULT (now() + interval '30 days');
ALTER TABLE signal_instances_p_legacy ALTER COLUMN expire_at DROP DEFAULT;

CREATE TABLE signal_instances (
  name TEXT NOT NULL,
  seq_id BIGINT NOT NULL,
  instance_id TEXT NOT NULL,
  request_id TEXT,
  params JSONB NOT NULL,
  payload JSONB,
  request_time BIGINT,
  source JSONB,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  expire_at TIMESTAMPTZ NOT NULL DEFAULT 'infinity',
  PRIMARY KEY (name, seq_id, expire_at)
) PARTITION BY RANGE (expire_at);
CREATE INDEX signal_instances_params_idx ON signal_instances USING GIN (params jsonb_path_ops);
CREATE INDEX signal_instances_time_idx ON signal_instances (name, create_time);
-- Kept forever. Not in the DEFAULT partition: creating a partition scans the DEFAULT one (for rows
-- of the new range) under a lock that blocks the table, so the DEFAULT one is kept empty.
CREATE TABLE signal_instances_p_forever PARTITION OF signal_instances FOR VALUES FROM ('infinity') TO (MAXVALUE);
CREATE TABLE signal_instances_p_default PARTITION OF signal_instances DEFAULT;
-- One line: the migration runner splits statements at a semicolon that ends a line.
DO $$ BEGIN EXECUTE format('ALTER TABLE signal_instances ATTACH PARTITION signal_instances_p_legacy FOR VALUES FROM (MINVALUE) TO (%L)', CASE WHEN EXISTS (SELECT 1 FROM signal_instances_p_legacy) THEN date_trunc('day', now() + interval '31 days', 'UTC') ELSE date_trunc('day', now(), 'UTC') END); END $$;
