-- When the next occurrence of any live schedule is due (served by tasks_schedule_due);
-- NULL when none is.
SELECT min(next_run_at) AS next_run_at
FROM tasks
WHERE schedule_kind <> 'none'
  AND enabled = 1
  AND is_deleted = 0;
