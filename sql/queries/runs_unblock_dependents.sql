-- An upstream run completed (or failed with on_failure = 'run' edges): each dependent
-- waiting on it through an unresolved edge has one upstream fewer, and becomes pending
-- when none is left. Touches only this run's dependents (task_dependencies_upstream).
UPDATE task_runs
SET blocked_on = blocked_on - 1,
    status = CASE WHEN blocked_on = 1 THEN 'pending' ELSE status END
WHERE id IN (
    SELECT downstream_id
    FROM task_dependencies
    WHERE upstream_id = :id
      AND resolved = 0
      AND (:include_cancel_edges = 1 OR on_failure = 'run')
)
  AND status = 'blocked'
RETURNING status;
