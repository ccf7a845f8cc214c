-- 0003 down: drops the views and triggers of 0003.
DROP VIEW IF EXISTS task_execution_stats;
DROP VIEW IF EXISTS active_workers;
DROP VIEW IF EXISTS pending_task_runs;
DROP VIEW IF EXISTS active_tasks;
DROP TRIGGER IF EXISTS task_runs_keep_newest;
DROP TRIGGER IF EXISTS system_state_touch_updated_at;
DROP TRIGGER IF EXISTS workers_touch_updated_at;
DROP TRIGGER IF EXISTS tasks_touch_updated_at;
