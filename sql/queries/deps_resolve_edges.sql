-- Mark up to :limit of a finished run's unresolved edges to its dependents as settled,
-- returning each dependent and what it does on failure (the rest wait for the next
-- transaction: see 0006).
UPDATE task_dependencies
SET resolved = 1
WHERE (downstream_id, upstream_id) IN (
    SELECT downstream_id, upstream_id
    FROM task_dependencies
    WHERE upstream_id = :id
      AND resolved = 0
    LIMIT :limit
)
RETURNING downstream_id, on_failure;
