-- Every edge of the dependency graph around run $1: the edges among all its ancestors
-- and all its descendants. Each edge set is reached through its own index (the primary
-- key upwards, task_dependencies_upstream downwards): an OR of both in one WHERE would
-- read the whole table.
WITH RECURSIVE
    up (id) AS (
        SELECT $1::bigint
        UNION
        SELECT d.upstream_id FROM task_dependencies AS d JOIN up ON d.downstream_id = up.id
    ),
    down (id) AS (
        SELECT $1::bigint
        UNION
        SELECT d.downstream_id FROM task_dependencies AS d JOIN down ON d.upstream_id = down.id
    ),
    edges AS (
        SELECT d.downstream_id, d.upstream_id, d.on_failure, d.resolved, d.created_at
        FROM up JOIN task_dependencies AS d ON d.downstream_id = up.id
        UNION
        SELECT d.downstream_id, d.upstream_id, d.on_failure, d.resolved, d.created_at
        FROM down JOIN task_dependencies AS d ON d.upstream_id = down.id
    )
SELECT e.downstream_id, e.upstream_id, e.on_failure, e.resolved, e.created_at,
       u.status AS upstream_status, w.status AS downstream_status
FROM edges AS e
JOIN task_runs AS u ON u.id = e.upstream_id
JOIN task_runs AS w ON w.id = e.downstream_id
ORDER BY e.downstream_id, e.upstream_id;
