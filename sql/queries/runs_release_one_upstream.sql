-- A blocked run has one unresolved upstream fewer, and still waits on others.
-- The caller tried runs_release_last_upstream.sql first; each edge is settled once
-- (deps_resolve_edges.sql marks it resolved in the same transaction).
UPDATE task_runs
SET blocked_on = blocked_on - 1
WHERE id = :id
  AND status = 'blocked'
  AND blocked_on > 1;
