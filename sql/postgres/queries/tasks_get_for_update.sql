-- The task with this id, locked until the transaction ends, for an update that merges
-- its change into the row it read (store/tasks.rs update_task): a concurrent edit, or a
-- materializer moving next_run_at or creating occurrences (runs_insert_occurrence.sql
-- locks the task too), waits, so the merge never overwrites what it did not see. NO KEY:
-- the id is not changed, so inserts of runs referencing the task (their foreign key
-- takes KEY SHARE) are not held up.
--   $1 id (bigint)
SELECT id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
       backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
       misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
       deleted_at, version, created_at, updated_at, queue
FROM tasks
WHERE id = $1
FOR NO KEY UPDATE;
