-- 0001 down: drops every object of 0001 (views, triggers, the trigger function, the
-- tables with their indexes, identity sequences and rows), dependents first; the
-- runner's scheduler_migrations stays. No CASCADE: an application's own view or foreign
-- key on one of these tables makes the down fail, inside the runner's transaction,
-- instead of being dropped with it. No IF EXISTS: the history says 0001 is applied, so a
-- missing object means the schema was changed by hand, and the down stops there.
DROP VIEW system_health;
DROP VIEW performance_metrics;
DROP VIEW throughput_last_hour;
DROP VIEW stale_workers;
DROP VIEW expired_leases;
DROP VIEW runs_by_status;
DROP VIEW task_execution_stats;
DROP VIEW active_workers;
DROP VIEW pending_task_runs;
DROP VIEW active_tasks;
DROP TRIGGER system_state_touch_updated_at ON system_state;
DROP TRIGGER workers_touch_updated_at ON workers;
DROP TRIGGER tasks_touch_updated_at ON tasks;
DROP FUNCTION scheduler_touch_updated_at();
DROP TABLE task_settle_queue;
DROP TABLE task_runs_archive;
DROP TABLE system_state;
DROP TABLE jwt_token_blacklist;
DROP TABLE task_locks;
DROP TABLE task_dependencies;
DROP TABLE task_runs;
DROP TABLE workers;
DROP TABLE tasks;
