-- 0004 snoozes: how many times a run asked to be tried later without using an attempt
-- (JobError::snooze). The count bounds the snoozes (the scheduler's max_snoozes) and is
-- shown with the run; archived runs keep it.
ALTER TABLE task_runs ADD COLUMN snoozes bigint NOT NULL DEFAULT 0 CHECK (snoozes >= 0);
ALTER TABLE task_runs_archive ADD COLUMN snoozes bigint NOT NULL DEFAULT 0;
