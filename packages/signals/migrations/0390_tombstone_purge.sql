-- Signal tombstones are removed by the retention pass once every run their lineage edges lead to
-- has been purged (tombstone-purge.ts). The status and the metrics report the oldest one's purge
-- time: this index answers it without reading the table.
CREATE INDEX IF NOT EXISTS signal_tombstones_purged_at_idx ON signal_tombstones (purged_at);
