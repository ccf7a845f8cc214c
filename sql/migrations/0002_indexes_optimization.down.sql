-- 0002 down: drops the indexes of 0002; the tables and their rows stay.
DROP INDEX IF EXISTS tasks_schedule_due;
DROP INDEX IF EXISTS task_dependencies_upstream;
DROP INDEX IF EXISTS jwt_token_blacklist_expiry;
DROP INDEX IF EXISTS workers_heartbeat;
DROP INDEX IF EXISTS task_locks_worker;
DROP INDEX IF EXISTS task_locks_expiry;
DROP INDEX IF EXISTS task_runs_finished;
DROP INDEX IF EXISTS task_runs_blocked;
DROP INDEX IF EXISTS task_runs_pending_due;
