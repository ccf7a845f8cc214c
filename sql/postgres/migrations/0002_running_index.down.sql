-- Reverts 0002.
DROP INDEX task_runs_running;
