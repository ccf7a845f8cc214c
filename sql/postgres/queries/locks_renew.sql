-- Renew the leases of worker $1 named by their attempts (run ids $2, tokens $3, in
-- pairs): to $4 on the wall clock and $5 ms after now on the database's clock. A lease
-- that was rescued, or taken by another attempt, matches no pair and is not renewed;
-- the answer names those renewed.
UPDATE task_locks AS l
SET expires_at = GREATEST($4::bigint, l.acquired_at),
    expires_mono = floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint + $5::bigint
FROM unnest($2::bigint[], $3::bigint[]) AS a (run_id, token)
WHERE l.run_id = a.run_id
  AND l.token = a.token
  AND l.worker_id = $1
RETURNING l.run_id, l.token;
