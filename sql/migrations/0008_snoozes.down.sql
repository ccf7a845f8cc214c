-- 0008 down: runs no longer count their snoozes.
ALTER TABLE task_runs_archive DROP COLUMN snoozes;
ALTER TABLE task_runs DROP COLUMN snoozes;
