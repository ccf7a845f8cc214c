-- Every queue that has unfinished runs or an operator's row, with its pending (due at
-- $1 and later) and running runs and whether it is paused. Pending counts come from
-- task_runs_pending_queue, running ones from task_runs_running, so history is never
-- read.
WITH pending AS (
    SELECT queue, count(*) AS runs, count(*) FILTER (WHERE scheduled_at <= $1) AS due,
           min(scheduled_at) FILTER (WHERE scheduled_at <= $1) AS oldest_due
    FROM task_runs
    WHERE status = 'pending'
    GROUP BY queue
),
running AS (
    SELECT queue, count(*) AS runs
    FROM task_runs
    WHERE status = 'running'
    GROUP BY queue
),
names(name) AS (
    SELECT queue FROM pending
    UNION SELECT queue FROM running
    UNION SELECT name FROM task_queues
)
SELECT n.name,
       coalesce(q.paused, 0)::smallint AS paused,
       coalesce(p.runs, 0)::bigint AS pending,
       coalesce(p.due, 0)::bigint AS due,
       p.oldest_due,
       coalesce(u.runs, 0)::bigint AS running
FROM names AS n
LEFT JOIN task_queues AS q ON q.name = n.name
LEFT JOIN pending AS p ON p.queue = n.name
LEFT JOIN running AS u ON u.queue = n.name
ORDER BY n.name;
