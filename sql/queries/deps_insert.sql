INSERT INTO task_dependencies (downstream_id, upstream_id, on_failure, resolved, created_at)
VALUES (:downstream_id, :upstream_id, :on_failure, :resolved, :now);
