-- Expire every lease of (dead) worker $1 now, on both clocks ($2 the wall clock), so the
-- next rescue pass takes its runs back.
UPDATE task_locks
SET expires_at = GREATEST(LEAST(expires_at, $2), acquired_at),
    expires_mono = LEAST(coalesce(expires_mono, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
WHERE worker_id = $1;
