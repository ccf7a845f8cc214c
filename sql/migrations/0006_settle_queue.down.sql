-- 0006 down: settling is no longer resumable; dependents still queued stay as they are
-- until their upstream is finished again or they are cancelled by hand.
DROP TABLE task_settle_queue;
