-- Drop the lease of attempt ($1 run, $2 token).
DELETE FROM task_locks WHERE run_id = $1 AND token = $2;
