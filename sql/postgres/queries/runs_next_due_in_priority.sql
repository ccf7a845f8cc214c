-- The earliest time after $2 a pending run of priority $1 in queue $4 becomes due, among
-- the job types $3 (NULL: any): a seek of task_runs_pending_queue.
SELECT scheduled_at
FROM task_runs
WHERE status = 'pending'
  AND queue = $4
  AND priority = $1
  AND scheduled_at > $2
  AND ($3::text[] IS NULL OR job_type = ANY ($3::text[]))
ORDER BY scheduled_at, id
LIMIT 1;
