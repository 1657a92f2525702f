-- Lists (GET /api/v3/instances, /api/v3/workflows/{id}/instances): newest first by (created_at, id),
-- paged by keyset. Loop iterations (inline workflow ids holding '#') are never listed, so the
-- indexes leave them out; the list queries repeat the same predicate so the planner can use them.
CREATE INDEX IF NOT EXISTS baton_instances_list ON baton_workflow_instances (created_at, id)
  WHERE strpos(workflow_id, '#') = 0;
CREATE INDEX IF NOT EXISTS baton_instances_list_by_status ON baton_workflow_instances (status, created_at, id)
  WHERE strpos(workflow_id, '#') = 0;
CREATE INDEX IF NOT EXISTS baton_instances_list_by_workflow ON baton_workflow_instances (workflow_id, created_at, id)
  WHERE strpos(workflow_id, '#') = 0;
-- Without statistics on these expressions the planner guesses it keeps 0.5% of the rows, takes a status
-- filter for a handful of rows and sorts them all instead of reading an index in order.
CREATE STATISTICS IF NOT EXISTS baton_instances_listed_stats ON (strpos(workflow_id, '#')) FROM baton_workflow_instances;
CREATE STATISTICS IF NOT EXISTS baton_instances_initiator_stats ON (upper(initiator->>'type')) FROM baton_workflow_instances;
