-- Whether nothing is to be done now: no run holds a lease (a running run always does),
-- no run's ending waits to be applied to its dependents (the settle queue), no
-- schedule's occurrence is due to be created (tasks_schedule_due), and no pending run
-- is due at :now. Runs waiting for a later time (a retry's backoff, a delayed enqueue)
-- are not work yet. The due check walks the queues and their priority groups with one
-- seek each (a loose index scan of task_runs_pending_queue, at most 101 groups per
-- queue), so millions of future runs are never read.
WITH RECURSIVE queues(queue) AS (
    SELECT (SELECT min(queue) FROM task_runs WHERE status = 'pending')
    UNION ALL
    SELECT (SELECT min(r.queue) FROM task_runs r
            WHERE r.status = 'pending' AND r.queue > q.queue)
    FROM queues q
    WHERE q.queue IS NOT NULL
),
groups(queue, priority) AS (
    SELECT q.queue,
           (SELECT max(r.priority) FROM task_runs r
            WHERE r.status = 'pending' AND r.queue = q.queue)
    FROM queues q
    WHERE q.queue IS NOT NULL
    UNION ALL
    SELECT g.queue,
           (SELECT max(r.priority) FROM task_runs r
            WHERE r.status = 'pending' AND r.queue = g.queue AND r.priority < g.priority)
    FROM groups g
    WHERE g.priority IS NOT NULL
)
SELECT NOT EXISTS (SELECT 1 FROM task_locks)
   AND NOT EXISTS (SELECT 1 FROM task_settle_queue)
   AND NOT EXISTS (SELECT 1 FROM tasks
                   WHERE schedule_kind <> 'none'
                     AND enabled = 1
                     AND is_deleted = 0
                     AND next_run_at <= :now)
   AND NOT EXISTS (
       SELECT 1
       FROM groups g
       WHERE g.priority IS NOT NULL
         AND EXISTS (SELECT 1 FROM task_runs r
                     WHERE r.status = 'pending'
                       AND r.queue = g.queue
                       AND r.priority = g.priority
                       AND r.scheduled_at <= :now)
   ) AS idle;
