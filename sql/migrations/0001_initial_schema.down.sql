-- 0001 down: drops the seven tables (children before parents) and every row in them.
DROP INDEX IF EXISTS task_runs_unique_key_live;
DROP INDEX IF EXISTS task_runs_task_occurrence;
DROP INDEX IF EXISTS tasks_name_live;
DROP TABLE IF EXISTS system_state;
DROP TABLE IF EXISTS jwt_token_blacklist;
DROP TABLE IF EXISTS task_locks;
DROP TABLE IF EXISTS task_dependencies;
DROP TABLE IF EXISTS task_runs;
DROP TABLE IF EXISTS workers;
DROP TABLE IF EXISTS tasks;
