-- When the next pending run of one priority group becomes due (for the dispatcher's sleep).
SELECT min(scheduled_at)
FROM task_runs
WHERE status = 'pending'
  AND priority = :priority;
