-- 0009 queues: every run and task belongs to a named queue ('default' unless set). A
-- process runs the queues it lists, each with its own threads, and claims from each
-- through its own seek: the claim index leads with the queue, so a queue's claim never
-- reads another queue's runs. task_queues holds what operators set per queue (paused),
-- honoured by every process on the database; a queue with no row is running.
ALTER TABLE task_runs ADD COLUMN queue TEXT NOT NULL DEFAULT 'default'
    CHECK (length(queue) BETWEEN 1 AND 64);
ALTER TABLE task_runs_archive ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE tasks ADD COLUMN queue TEXT NOT NULL DEFAULT 'default'
    CHECK (length(queue) BETWEEN 1 AND 64);

DROP INDEX task_runs_pending_due;
CREATE INDEX task_runs_pending_queue
    ON task_runs (queue, priority, scheduled_at) WHERE status = 'pending';

CREATE TABLE task_queues (
    name       TEXT    PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    updated_at INTEGER NOT NULL
) STRICT;
