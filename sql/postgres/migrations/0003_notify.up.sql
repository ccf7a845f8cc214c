-- 0003: wake-ups across hosts. Each statement that makes work (a run inserted, or put
-- back to pending; a schedule created or changed; claiming resumed) sends one
-- notification on channel `runloom` when its transaction commits, whoever wrote it: the
-- library on any host, the CLI, or another program inserting rows by hand. Every
-- scheduler LISTENs on a connection of its own and wakes its dispatcher, so an idle
-- host starts another host's work at once instead of at its next poll (which stays as
-- the fallback when a notification connection is down).
--
-- Statement-level triggers: one notification per statement, not per row (a batch of
-- 10 000 runs sends one), and PostgreSQL folds identical notifications of one
-- transaction into one. The UPDATE trigger looks at the statement's new rows and
-- notifies only when one is pending: claims (running) and endings (completed, failed,
-- cancelled) are by far the most frequent updates and wake nobody. The payload says
-- why: 'work', 'schedules' or 'resumed'.

CREATE FUNCTION scheduler_notify_work() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR EXISTS (SELECT 1 FROM new_runs WHERE status = 'pending') THEN
        PERFORM pg_catalog.pg_notify('runloom', 'work');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER task_runs_notify_insert
AFTER INSERT ON task_runs
REFERENCING NEW TABLE AS new_runs
FOR EACH STATEMENT EXECUTE FUNCTION scheduler_notify_work();

CREATE TRIGGER task_runs_notify_update
AFTER UPDATE ON task_runs
REFERENCING NEW TABLE AS new_runs
FOR EACH STATEMENT EXECUTE FUNCTION scheduler_notify_work();

CREATE FUNCTION scheduler_notify_schedules() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('runloom', 'schedules');
    RETURN NULL;
END;
$$;

-- Every change of a task may move a schedule's next fire time. Materialising an
-- occurrence updates the task too (next_run_at), which wakes the other hosts' dispatchers
-- once per occurrence: they find nothing due and sleep again.
CREATE TRIGGER tasks_notify
AFTER INSERT OR UPDATE ON tasks
FOR EACH STATEMENT EXECUTE FUNCTION scheduler_notify_schedules();

CREATE FUNCTION scheduler_notify_resumed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_state WHERE key = 'paused' AND value = '0') THEN
        PERFORM pg_catalog.pg_notify('runloom', 'resumed');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER system_state_notify_update
AFTER UPDATE ON system_state
REFERENCING NEW TABLE AS new_state
FOR EACH STATEMENT EXECUTE FUNCTION scheduler_notify_resumed();
