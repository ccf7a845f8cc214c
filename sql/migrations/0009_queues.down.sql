-- 0009 down: one queue for everything again (queue pauses are forgotten).
DROP TABLE task_queues;
DROP INDEX task_runs_pending_queue;
CREATE INDEX task_runs_pending_due
    ON task_runs (priority, scheduled_at) WHERE status = 'pending';
ALTER TABLE tasks DROP COLUMN queue;
ALTER TABLE task_runs_archive DROP COLUMN queue;
ALTER TABLE task_runs DROP COLUMN queue;
