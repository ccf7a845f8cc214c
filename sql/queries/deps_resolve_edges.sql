-- Mark a finished run's edges to its dependents as settled, returning each dependent and
-- what it does on failure.
UPDATE task_dependencies
SET resolved = 1
WHERE upstream_id = :id
  AND resolved = 0
RETURNING downstream_id, on_failure;
