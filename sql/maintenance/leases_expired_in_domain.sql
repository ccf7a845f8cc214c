-- Leases that expired on the host's monotonic clock: their holder records its expiry on
-- that clock (0005) and the observer, on the same host and boot (:domain), compares it
-- with one reading of its own (:mono). No wall clock takes part, so no wall-clock jump
-- can make a renewed lease look expired. Oldest expiry first, at most :batch; the rescue
-- writes each fenced by its token (runs_rescue_fenced.sql). CROSS JOIN keeps
-- task_locks_expiry_mono the outer loop, which also gives the order: led by
-- workers_clock_domain the planner would read every lease of every worker of this
-- domain and sort them, inside the rescue's write transaction.
SELECT l.run_id, l.token, r.job_type, r.attempt, r.backoff_ms
FROM task_locks AS l
CROSS JOIN workers AS w ON w.id = l.worker_id
JOIN task_runs AS r ON r.id = l.run_id
WHERE l.expires_mono <= :mono
  AND w.clock_domain = :domain
ORDER BY l.expires_mono, l.run_id
LIMIT :batch;
