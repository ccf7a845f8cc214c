-- Drop a lease, only if it is still this grant (fenced by its token).
DELETE FROM task_locks WHERE run_id = :run_id AND token = :token;
