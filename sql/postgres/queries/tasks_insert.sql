-- A new task. Its name is claimed by the partial unique index of live names: when a live
-- task has it (or a transaction still creating one does: the insert waits for it to
-- end), nothing is inserted and no row comes back, and the runtime reports the clash
-- (TaskNameTaken). A violation would abort the whole transaction; DO NOTHING does not.
--   $1 name, $2 job_type, $3 payload (JSON text), $4 priority, $5 max_attempts,
--   $6 timeout_ms (NULL: none), $7 backoff_ms, $8 unique_key, $9 schedule_kind,
--   $10 cron_expr, $11 interval_ms, $12 timezone, $13 misfire_policy, $14 misfire_cap,
--   $15 next_run_at (bigint ms), $16 enabled (smallint 0/1), $17 now (bigint ms),
--   $18 queue
INSERT INTO tasks (
    name, job_type, payload, priority, max_attempts, timeout_ms, backoff_ms, unique_key,
    schedule_kind, cron_expr, interval_ms, timezone, misfire_policy, misfire_cap,
    next_run_at, enabled, created_at, updated_at, queue
) VALUES (
    $1, $2, $3::text::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
    $17, $17, $18
)
ON CONFLICT (name) WHERE is_deleted = 0 DO NOTHING
RETURNING id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
          backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
          misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
          deleted_at, version, created_at, updated_at, queue;
