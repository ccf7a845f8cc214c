-- The edges that wait on run $1 (its dependents).
SELECT d.downstream_id, d.upstream_id, d.on_failure, d.resolved, d.created_at,
       u.status AS upstream_status, w.status AS downstream_status
FROM task_dependencies AS d
JOIN task_runs AS u ON u.id = d.upstream_id
JOIN task_runs AS w ON w.id = d.downstream_id
WHERE d.upstream_id = $1
ORDER BY d.downstream_id;
