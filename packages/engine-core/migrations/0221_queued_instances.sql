-- The run strategy's dispatch takes the head of a workflow's queue: status 'CREATED', ORDER BY
-- instance_id, run_id LIMIT n. Without this index the planner walks the (workflow_id, instance_id,
-- run_id) key and filters on status, which in a draining backlog means stepping over every
-- instance that already ran (tens of thousands) on each dispatch. Queued rows are few relative
-- to history, so the index stays small.
CREATE INDEX IF NOT EXISTS baton_instances_queued ON baton_workflow_instances (workflow_id, instance_id, run_id) WHERE status = 'CREATED';
