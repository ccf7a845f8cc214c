-- Workers by id, offline ones only when $1 = 1.
SELECT id, name, host, pid, threads, version, status, started_at, last_heartbeat,
       stopped_at, updated_at, heartbeat_ms, lease_ms, stale_after_ms, clock_domain,
       (SELECT count(*) FROM task_locks AS l WHERE l.worker_id = workers.id) AS leases_held
FROM workers
WHERE ($1::smallint = 1 OR status <> 'offline')
ORDER BY id;
