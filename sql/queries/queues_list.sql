-- Every queue that has unfinished runs or an operator's row, with its pending (due and
-- later) and running runs and whether it is paused. Pending counts come from
-- task_runs_pending_queue; running runs through their leases (the lease table holds
-- only them), so history is never read.
WITH pending AS (
    SELECT queue, count(*) AS runs, sum(scheduled_at <= :now) AS due,
           min(CASE WHEN scheduled_at <= :now THEN scheduled_at END) AS oldest_due
    FROM task_runs
    WHERE status = 'pending'
    GROUP BY queue
),
running AS (
    SELECT r.queue, count(*) AS runs
    FROM task_locks AS l CROSS JOIN task_runs AS r
    WHERE r.id = l.run_id AND r.status = 'running'
    GROUP BY r.queue
),
names(name) AS (
    SELECT queue FROM pending
    UNION SELECT queue FROM running
    UNION SELECT name FROM task_queues
)
SELECT n.name,
       coalesce(q.paused, 0) AS paused,
       coalesce(p.runs, 0) AS pending,
       coalesce(p.due, 0) AS due,
       p.oldest_due,
       coalesce(u.runs, 0) AS running
FROM names AS n
LEFT JOIN task_queues AS q ON q.name = n.name
LEFT JOIN pending AS p ON p.queue = n.name
LEFT JOIN running AS u ON u.queue = n.name
ORDER BY n.name;
