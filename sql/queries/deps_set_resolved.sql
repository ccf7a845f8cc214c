-- Re-opens (0) or settles (1) one edge: a run retried by hand waits again for the
-- upstreams that have not finished.
UPDATE task_dependencies
SET resolved = :resolved
WHERE downstream_id = :downstream_id
  AND upstream_id = :upstream_id;
