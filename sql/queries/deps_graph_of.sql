-- Every edge of the dependency graph around a run: the edges among all its ancestors and
-- all its descendants.
WITH RECURSIVE
    up (id) AS (
        SELECT :id
        UNION
        SELECT d.upstream_id FROM task_dependencies AS d JOIN up ON d.downstream_id = up.id
    ),
    down (id) AS (
        SELECT :id
        UNION
        SELECT d.downstream_id FROM task_dependencies AS d JOIN down ON d.upstream_id = down.id
    )
SELECT d.downstream_id, d.upstream_id, d.on_failure, d.resolved, d.created_at,
       u.status AS upstream_status, w.status AS downstream_status
FROM task_dependencies AS d
JOIN task_runs AS u ON u.id = d.upstream_id
JOIN task_runs AS w ON w.id = d.downstream_id
WHERE d.downstream_id IN (SELECT id FROM up)
   OR d.upstream_id IN (SELECT id FROM down)
ORDER BY d.downstream_id, d.upstream_id;
