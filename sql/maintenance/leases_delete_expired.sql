-- Drop the expired leases whose runs leases_rescue_expired_runs.sql just rescued (the same
-- selection: same :now, same :batch, same order), and any expired lease left behind.
DELETE FROM task_locks
WHERE run_id IN (
    SELECT run_id FROM task_locks
    WHERE expires_at <= :now
    ORDER BY expires_at, run_id
    LIMIT :batch
);
