-- Claim up to $4 due runs of priority $2 in queue $8 for worker $1 at $3 (host clock, what the
-- model records), among the job types $5 (NULL: any), each under a new lease with a new
-- fencing token, in one statement:
--   * picked: the oldest due runs, in task_runs_pending_queue order, locked FOR UPDATE
--     SKIP LOCKED, so concurrent claimers on other hosts take disjoint runs without
--     waiting for each other (a row another claimer just took is re-checked against
--     status = 'pending' and dropped);
--   * claimed: each becomes running, its attempt counted and its token incremented;
--   * the lease row, expiring at $6 on the wall clock (shown to people) and $7 ms after
--     now on the database's clock (expires_mono, what every host's rescue judges by: no
--     host clock takes part, so hosts whose clocks disagree agree on expiry). A stray
--     lease row of an earlier attempt (none is expected) is replaced: its token is older
--     than the new one, so it fenced nothing anyway.
-- The lease's token is the claimed run's new lease_token.
WITH picked AS (
    SELECT id
    FROM task_runs
    WHERE status = 'pending'
      AND queue = $8
      AND priority = $2
      AND scheduled_at <= $3
      AND ($5::text[] IS NULL OR job_type = ANY ($5::text[]))
      -- The pauses again, in this statement's own snapshot: under READ COMMITTED the
      -- claimer's earlier read (claim_pauses.sql) may predate a pause that committed
      -- before this statement began, with runs enqueued after it. Uncorrelated, each
      -- is evaluated once per statement, not per row.
      AND NOT EXISTS (SELECT 1 FROM system_state WHERE key = 'paused' AND value = '1')
      AND NOT EXISTS (SELECT 1 FROM task_queues WHERE name = $8 AND paused = 1)
    ORDER BY scheduled_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE task_runs AS r
    SET status = 'running',
        attempt = r.attempt + 1,
        lease_token = r.lease_token + 1,
        worker_id = $1,
        started_at = $3
    FROM picked
    WHERE r.id = picked.id
    RETURNING r.id, r.task_id, r.job_type, r.payload::text AS payload, r.attempt,
              r.max_attempts, r.timeout_ms, r.backoff_ms, r.priority, r.scheduled_at,
              r.unique_key, r.lease_token, r.snoozes, r.queue
),
leased AS (
    INSERT INTO task_locks (run_id, worker_id, token, acquired_at, expires_at, expires_mono)
    SELECT id, $1, lease_token, $3, $6,
           floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint + $7::bigint
    FROM claimed
    ON CONFLICT (run_id) DO UPDATE
    SET worker_id = excluded.worker_id,
        token = excluded.token,
        acquired_at = excluded.acquired_at,
        expires_at = excluded.expires_at,
        expires_mono = excluded.expires_mono
)
SELECT id, task_id, job_type, payload, attempt, max_attempts, timeout_ms, backoff_ms,
       priority, scheduled_at, unique_key, lease_token, snoozes, queue
FROM claimed
ORDER BY scheduled_at, id;
