-- The status of run $1.
SELECT status FROM task_runs WHERE id = $1;
