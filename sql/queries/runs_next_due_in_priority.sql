-- When the next pending run of one priority group of :queue, among the job types the caller runs
-- (:job_types, a JSON array; NULL for any), becomes due after :now (for the
-- dispatcher's sleep). Runs already due are not its concern: a claim that came back
-- short left only runs of other job types due, and those must not keep it awake.
SELECT scheduled_at
FROM task_runs
WHERE status = 'pending'
  AND queue = :queue
  AND priority = :priority
  AND scheduled_at > :now
  AND (:job_types IS NULL OR job_type IN (SELECT value FROM json_each(:job_types)))
ORDER BY scheduled_at
LIMIT 1;
