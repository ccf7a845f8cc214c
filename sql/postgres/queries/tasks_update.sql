-- Optimistic locking: the update applies only if the row is still at the version the
-- caller read (one statement, so a concurrent change that commits first makes it match
-- nothing); the version moves on by one. Returns the task as it is now.
--   $1 id, $2 expected version, $3 payload (JSON text), $4 priority, $5 max_attempts,
--   $6 timeout_ms, $7 backoff_ms, $8 unique_key, $9 schedule_kind, $10 cron_expr,
--   $11 interval_ms, $12 timezone, $13 misfire_policy, $14 misfire_cap,
--   $15 next_run_at, $16 last_run_at (bigint ms), $17 enabled (smallint 0/1),
--   $18 now (bigint ms), $19 queue
UPDATE tasks
SET payload = $3::text::jsonb,
    priority = $4,
    max_attempts = $5,
    timeout_ms = $6,
    backoff_ms = $7,
    unique_key = $8,
    schedule_kind = $9,
    cron_expr = $10,
    interval_ms = $11,
    timezone = $12,
    misfire_policy = $13,
    misfire_cap = $14,
    next_run_at = $15,
    last_run_at = $16,
    enabled = $17,
    queue = $19,
    version = version + 1,
    updated_at = $18
WHERE id = $1
  AND version = $2
  AND is_deleted = 0
RETURNING id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
          backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
          misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
          deleted_at, version, created_at, updated_at, queue;
