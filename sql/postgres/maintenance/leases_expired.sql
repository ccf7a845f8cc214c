-- Leases past their expiry on the database's clock (expires_mono, written by the
-- claim and each renewal as the database's clock_timestamp() plus the lease), oldest
-- first, at most $1: one clock for every host, so a host whose clock is ahead never
-- takes a live run, and a dead host's run waits no longer than its lease. Each lease
-- row is locked (SKIP LOCKED: a lease another rescuer, or its finishing holder, has
-- locked is theirs to settle), before the run's, as every statement taking both does.
-- The rescue then writes each run fenced by the token (runs_rescue_fenced.sql).
SELECT l.run_id, l.token, r.job_type, r.attempt, r.backoff_ms
FROM task_locks AS l
JOIN task_runs AS r ON r.id = l.run_id
WHERE l.expires_mono <= floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
ORDER BY l.expires_mono, l.run_id
LIMIT $1
FOR UPDATE OF l SKIP LOCKED;
