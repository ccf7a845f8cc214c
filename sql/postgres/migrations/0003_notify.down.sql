-- Reverts 0003.
DROP TRIGGER system_state_notify_update ON system_state;
DROP FUNCTION scheduler_notify_resumed();
DROP TRIGGER tasks_notify ON tasks;
DROP FUNCTION scheduler_notify_schedules();
DROP TRIGGER task_runs_notify_update ON task_runs;
DROP TRIGGER task_runs_notify_insert ON task_runs;
DROP FUNCTION scheduler_notify_work();
