-- Worker $1 with the number of leases it holds.
SELECT id, name, host, pid, threads, version, status, started_at, last_heartbeat,
       stopped_at, updated_at, heartbeat_ms, lease_ms, stale_after_ms, clock_domain,
       (SELECT count(*) FROM task_locks AS l WHERE l.worker_id = workers.id) AS leases_held
FROM workers
WHERE id = $1;
