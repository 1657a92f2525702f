-- Time-partitioned run history (see docs/operations.md, "Retention of finished runs").
--
-- The append-only history of runs (instance and step timelines, step log chunks) becomes tables
-- partitioned by RANGE (partition_at): the time the row was written (now() at insert), moved
-- forward only when a retention pass keeps the row of a retained run (retention/history-partitions.ts).
-- One partition per UTC week (Monday to Monday), `<table>_pYYYYMMDD` after the week's first day,
-- created ahead by the service; a pass under BATON_RUN_RETENTION drops a week whose end is older
-- than the retention, after moving out the rows of runs still stored.
--
-- A primary key of a partitioned table must contain the partition key: (id, partition_at) for the
-- timelines (ids still come from their sequence, so stay unique), (attempt_pk, stream, byte_offset,
-- partition_at) for the chunks (one writer per attempt assigns offsets under its baton_step_logs
-- row lock). The foreign keys to the instances and attempts go: a run's history rows outlive the
-- batched purge of its instances and attempts until their partition is dropped whole, unseen (every
-- read goes through the instance or attempt first).
--
-- Each existing table becomes the first partition, `<table>_p_legacy`, without copying: its rows
-- get partition_at = the migration time (a stable default: no table rewrite) and it covers up to
-- the start of the next UTC week. `<table>_p_default` catches a row whose week has no partition.

ALTER TABLE baton_instance_timeline RENAME TO baton_instance_timeline_p_legacy;
ALTER TABLE baton_instance_timeline_p_legacy DROP CONSTRAINT baton_instance_timeline_pkey;
ALTER TABLE baton_instance_timeline_p_legacy DROP CONSTRAINT baton_instance_timeline_instance_pk_fkey;
ALTER INDEX baton_instance_timeline_by_instance RENAME TO baton_instance_timeline_p_legacy_by_instance;
ALTER TABLE baton_instance_timeline_p_legacy ADD COLUMN partition_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE baton_instance_timeline_p_legacy ALTER COLUMN partition_at DROP DEFAULT;
CREATE TABLE baton_instance_timeline (
  id BIGINT NOT NULL DEFAULT nextval('baton_instance_timeline_id_seq'),
  instance_pk BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  from_status TEXT,
  to_status TEXT NOT NULL,
  message TEXT NOT NULL,
  partition_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (id, partition_at)
) PARTITION BY RANGE (partition_at);
-- The sequence must not go with the legacy partition when that is dropped.
ALTER SEQUENCE baton_instance_timeline_id_seq OWNED BY baton_instance_timeline.id;
CREATE INDEX baton_instance_timeline_by_instance ON baton_instance_timeline (instance_pk, id);
CREATE TABLE baton_instance_timeline_p_default PARTITION OF baton_instance_timeline DEFAULT;
DO $$ BEGIN EXECUTE format('ALTER TABLE baton_instance_timeline ATTACH PARTITION baton_instance_timeline_p_legacy FOR VALUES FROM (MINVALUE) TO (%L)', date_trunc('week', now(), 'UTC') + interval '7 days'); END $$;

ALTER TABLE baton_step_timeline RENAME TO baton_step_timeline_p_legacy;
ALTER TABLE baton_step_timeline_p_legacy DROP CONSTRAINT baton_step_timeline_pkey;
ALTER TABLE baton_step_timeline_p_legacy DROP CONSTRAINT baton_step_timeline_attempt_pk_fkey;
ALTER INDEX baton_step_timeline_by_attempt RENAME TO baton_step_timeline_p_legacy_by_attempt;
ALTER TABLE baton_step_timeline_p_legacy ADD COLUMN partition_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE baton_step_timeline_p_legacy ALTER COLUMN partition_at DROP DEFAULT;
CREATE TABLE baton_step_timeline (
  id BIGINT NOT NULL DEFAULT nextval('baton_step_timeline_id_seq'),
  attempt_pk BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  from_status TEXT,
  to_status TEXT,
  message TEXT NOT NULL,
  details JSONB,
  partition_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (id, partition_at)
) PARTITION BY RANGE (partition_at);
ALTER SEQUENCE baton_step_timeline_id_seq OWNED BY baton_step_timeline.id;
CREATE INDEX baton_step_timeline_by_attempt ON baton_step_timeline (attempt_pk, id);
CREATE TABLE baton_step_timeline_p_default PARTITION OF baton_step_timeline DEFAULT;
DO $$ BEGIN EXECUTE format('ALTER TABLE baton_step_timeline ATTACH PARTITION baton_step_timeline_p_legacy FOR VALUES FROM (MINVALUE) TO (%L)', date_trunc('week', now(), 'UTC') + interval '7 days'); END $$;

ALTER TABLE baton_step_log_chunks RENAME TO baton_step_log_chunks_p_legacy;
ALTER TABLE baton_step_log_chunks_p_legacy DROP CONSTRAINT baton_step_log_chunks_pkey;
ALTER TABLE baton_step_log_chunks_p_legacy DROP CONSTRAINT baton_step_log_chunks_attempt_pk_stream_fkey;
ALTER TABLE baton_step_log_chunks_p_legacy ADD COLUMN partition_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE baton_step_log_chunks_p_legacy ALTER COLUMN partition_at DROP DEFAULT;
CREATE TABLE baton_step_log_chunks (
  attempt_pk BIGINT NOT NULL,
  stream TEXT NOT NULL,
  byte_offset BIGINT NOT NULL,
  data BYTEA NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  partition_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (attempt_pk, stream, byte_offset, partition_at)
) PARTITION BY RANGE (partition_at);
CREATE TABLE baton_step_log_chunks_p_default PARTITION OF baton_step_log_chunks DEFAULT;
DO $$ BEGIN EXECUTE format('ALTER TABLE baton_step_log_chunks ATTACH PARTITION baton_step_log_chunks_p_legacy FOR VALUES FROM (MINVALUE) TO (%L)', date_trunc('week', now(), 'UTC') + interval '7 days'); END $$;
