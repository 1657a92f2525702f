-- The claim takes the oldest due jobs of the worker's kinds: ORDER BY run_at, id LIMIT n. The
-- (kind, run_at) index cannot give that order for several kinds at once, so with a large queue
-- (100,000 jobs) every claim read and sorted the whole table (136 ms each, measured). Read in
-- this order, a claim stops after the rows it takes (those leased by workers are skipped; they
-- are few: at most every worker's concurrency).
CREATE INDEX IF NOT EXISTS baton_jobs_due ON baton_jobs (run_at, id) WHERE failed_at IS NULL;
