-- Reverts 0005.
DROP TRIGGER task_queues_notify_update ON task_queues;
DROP FUNCTION scheduler_notify_queue_resumed();
DROP TABLE task_queues;
DROP INDEX task_runs_pending_queue;
CREATE INDEX task_runs_pending_due
    ON task_runs (priority, scheduled_at, id) WHERE status = 'pending';
ALTER TABLE tasks DROP COLUMN queue;
ALTER TABLE task_runs_archive DROP COLUMN queue;
ALTER TABLE task_runs DROP COLUMN queue;
