-- Leases of workers whose monotonic clock this observer cannot read: another boot of the
-- host (they are dead), or rows written before 0005. They are judged by their wall-clock
-- expiry. Reached through their workers, found by workers_clock_domain (0007: the three
-- terms are the two ranges around :domain and the rows that recorded none, so no worker
-- of this domain is read), then task_locks_worker (CROSS JOIN keeps workers the outer
-- loop: a scan of task_locks would visit every live lease); at most :batch.
SELECT l.run_id, l.token, r.job_type, r.attempt, r.backoff_ms
FROM workers
CROSS JOIN task_locks AS l ON l.worker_id = workers.id
JOIN task_runs AS r ON r.id = l.run_id
WHERE (workers.clock_domain < :domain
       OR workers.clock_domain > :domain
       OR workers.clock_domain IS NULL)
  AND l.expires_at <= :now
ORDER BY l.expires_at, l.run_id
LIMIT :batch;
