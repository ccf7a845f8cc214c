-- Reverts 0004.
ALTER TABLE task_runs_archive DROP COLUMN snoozes;
ALTER TABLE task_runs DROP COLUMN snoozes;
