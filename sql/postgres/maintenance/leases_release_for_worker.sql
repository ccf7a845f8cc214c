-- Expire every lease of the (dead) workers $1 (bigint[]) now, on both clocks ($2 the
-- wall clock), so the next rescue pass takes their runs back: one statement for the
-- whole batch of workers the stale-worker pass marked offline.
UPDATE task_locks
SET expires_at = GREATEST(LEAST(expires_at, $2), acquired_at),
    expires_mono = LEAST(coalesce(expires_mono, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
WHERE worker_id = ANY($1::bigint[]);
