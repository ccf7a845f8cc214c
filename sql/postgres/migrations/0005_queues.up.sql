-- 0005 queues: every run and task belongs to a named queue ('default' unless set). A
-- process runs the queues it lists, each with its own threads, and claims from each
-- through its own seek: the claim index leads with the queue, so a queue's claim never
-- reads another queue's runs. task_queues holds what operators set per queue (paused),
-- honoured by every host; a queue with no row is running. A resumed queue notifies
-- 'resumed' like a global resume, so every host claims from it at once.
ALTER TABLE task_runs ADD COLUMN queue text NOT NULL DEFAULT 'default'
    CHECK (length(queue) BETWEEN 1 AND 64);
ALTER TABLE task_runs_archive ADD COLUMN queue text NOT NULL DEFAULT 'default';
ALTER TABLE tasks ADD COLUMN queue text NOT NULL DEFAULT 'default'
    CHECK (length(queue) BETWEEN 1 AND 64);

DROP INDEX task_runs_pending_due;
CREATE INDEX task_runs_pending_queue
    ON task_runs (queue, priority, scheduled_at, id) WHERE status = 'pending';

CREATE TABLE task_queues (
    name       text     PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    paused     smallint NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    updated_at bigint   NOT NULL
);

CREATE FUNCTION scheduler_notify_queue_resumed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_queues WHERE paused = 0) THEN
        PERFORM pg_catalog.pg_notify('runloom', 'resumed');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER task_queues_notify_update
AFTER UPDATE ON task_queues
REFERENCING NEW TABLE AS new_queues
FOR EACH STATEMENT EXECUTE FUNCTION scheduler_notify_queue_resumed();
